import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { isIP } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch, type RequestInit } from 'undici';
import { addressRefusal } from './address-policy.js';
import { OutboundPolicy } from './outbound-policy.js';
import { OutboundAddressRefused, OutboundResponseRefused } from './outbound.errors.js';

/** SPEC §11: answers over 1 MiB are refused. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** What a caller may send; the shape openid-client's `customFetch` receives. */
export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | ReadableStream | null;
  signal?: AbortSignal;
}

/**
 * A connector that applies the outbound policy before any packet is sent: to IP literals here
 * (Node skips `lookup` for those), to resolved names in the policy's `lookup`.
 */
function policyConnector(policy: OutboundPolicy): buildConnector.connector {
  const connect = buildConnector({ lookup: policy.lookup });
  return (options, callback) => {
    if (isIP(options.hostname) !== 0) {
      const range = addressRefusal(options.hostname, policy.allow);
      if (range !== null) {
        const refusal = new OutboundAddressRefused(options.hostname, range, true);
        queueMicrotask(() => callback(refusal, null));
        return;
      }
    }
    connect(options, callback);
  };
}

/** Reads a body, counting bytes as they arrive: a missing or lying content-length cannot help. */
async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  status: number,
  origin: string,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (body === null) return Buffer.alloc(0);
  for await (const chunk of body) {
    total += chunk.byteLength;
    // Leaving the loop cancels the stream, which closes the connection.
    if (total > MAX_RESPONSE_BYTES) throw tooLarge(status, origin);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(status: number, origin: string): OutboundResponseRefused {
  return new OutboundResponseRefused(
    'too_large',
    status,
    `${origin} answered with more than 1 MiB, which Outlink refuses`,
  );
}

/** The body is decoded and complete: its transfer headers no longer describe it. */
const TRANSFER_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

/**
 * The one way Outlink makes HTTP requests on an admin's behalf (providers today; webhooks,
 * JWKS and userinfo later): every connection obeys the outbound policy (SPEC §11), redirects are
 * errors and answers are capped at 1 MiB.
 *
 * It uses the `undici` package's own fetch and Agent: Node 20's global fetch is an older undici
 * that must not be given this Agent.
 */
@Injectable()
export class OutboundHttp implements OnApplicationShutdown {
  private readonly agent: Agent;

  constructor(policy: OutboundPolicy) {
    this.agent = new Agent({ connect: policyConnector(policy) });
  }

  /**
   * Sends one request and reads the whole answer.
   *
   * @param url - an absolute http(s) URL
   * @param request - method, headers, body and an abort signal (the caller's timeout)
   * @returns a standard `Response` holding the complete, decoded body
   * @throws OutboundAddressRefused before connecting to an address outside the policy;
   *   OutboundResponseRefused for a 3xx answer (not followed) or one over 1 MiB; fetch's own
   *   errors when the server cannot be reached or the signal aborts
   */
  async fetch(url: string, request: OutboundRequest = {}): Promise<Response> {
    const origin = new URL(url).origin;
    let response;
    try {
      response = await undiciFetch(url, {
        ...(request as RequestInit),
        redirect: 'manual',
        dispatcher: this.agent,
      });
    } catch (error) {
      // fetch reports every connection failure as TypeError('fetch failed') with the cause.
      if (error instanceof Error && error.cause instanceof OutboundAddressRefused)
        throw error.cause;
      throw error;
    }
    const { status, statusText } = response;
    if (status >= 300 && status < 400) {
      await response.body?.cancel();
      throw new OutboundResponseRefused(
        'redirect',
        status,
        `${origin} answered with a redirect (HTTP ${status}), which Outlink does not follow`,
      );
    }
    if (Number(response.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) {
      await response.body?.cancel();
      throw tooLarge(status, origin);
    }
    const body = await readCapped(response.body, status, origin);
    const headers = new Headers();
    for (const [name, value] of response.headers) {
      if (!TRANSFER_HEADERS.has(name)) headers.append(name, value);
    }
    const empty = status === 204 || status === 205;
    return new Response(empty ? null : body, { status, statusText, headers });
  }

  async onApplicationShutdown(): Promise<void> {
    // Refreshes in flight were awaited before shutdown; nothing still pending is worth waiting for.
    await this.agent.destroy();
  }
}
