import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How long the provider takes to answer a grant: a fast real provider on the same continent. */
export const PROVIDER_LATENCY_MS = 50;
export const ACCESS_TOKEN_LIFETIME_SECONDS = 3600;

/** `rt.<linkId>.<generation>.<random>`: the provider tells a replay from the current token. */
export function refreshTokenFor(linkId: string, generation: number): string {
  return `rt.${linkId}.${generation}.${randomBytes(12).toString('base64url')}`;
}

export function accessTokenFor(linkId: string, generation: number): string {
  return `at.${linkId}.${generation}.${randomBytes(24).toString('base64url')}`;
}

export interface GrantCounts {
  /** refresh_token grants received. */
  grants: number;
  /** Grants that presented a used (rotated-away) refresh token: must stay 0. */
  replays: number;
  /** Links that received at least one new token. */
  linksRefreshed: number;
  /** Links refreshed more than once. */
  linksRefreshedTwice: number;
  /** performance.now() of the first grant received, and of the first and last answered. */
  firstReceivedAt: number | null;
  firstAnsweredAt: number | null;
  lastAnsweredAt: number | null;
}

/**
 * A token endpoint that behaves like an OAuth 2.1 server with rotating refresh tokens: every
 * refresh_token grant is answered after PROVIDER_LATENCY_MS with a new access token (expires_in
 * 3600) and a new refresh token; presenting an already-rotated one is a replay, answered with
 * invalid_grant and counted (a real provider would revoke the whole grant).
 */
export class FakeTokenEndpoint {
  private readonly server: Server;
  /** linkId -> the generation of its current refresh token; absent means generation 0. */
  private readonly generations = new Map<string, number>();
  private counts: GrantCounts = FakeTokenEndpoint.emptyCounts();

  constructor() {
    this.server = createServer((request, response) => {
      void readBody(request).then((body) => {
        const answer = this.answer(request.url ?? '', body);
        setTimeout(() => {
          if (answer.status === 200) {
            this.counts.lastAnsweredAt = performance.now();
            this.counts.firstAnsweredAt ??= this.counts.lastAnsweredAt;
          }
          response.writeHead(answer.status, {
            'content-type': 'application/json',
            'cache-control': 'no-store',
          });
          response.end(JSON.stringify(answer.body));
        }, PROVIDER_LATENCY_MS);
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  private static emptyCounts(): GrantCounts {
    return {
      grants: 0,
      replays: 0,
      linksRefreshed: 0,
      linksRefreshedTwice: 0,
      firstReceivedAt: null,
      firstAnsweredAt: null,
      lastAnsweredAt: null,
    };
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Forgets every grant: the links of the next measurement start at generation 0. */
  reset(): void {
    this.generations.clear();
    this.counts = FakeTokenEndpoint.emptyCounts();
  }

  get snapshot(): GrantCounts {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(url: string, body: string): { status: number; body: object } {
    const form = new URLSearchParams(body);
    if (!url.startsWith('/token') || form.get('grant_type') !== 'refresh_token') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    this.counts.grants++;
    this.counts.firstReceivedAt ??= performance.now();
    const [prefix, linkId, generationText] = (form.get('refresh_token') ?? '').split('.');
    const generation = Number(generationText);
    const current = this.generations.get(linkId) ?? 0;
    if (prefix !== 'rt' || !linkId || generation !== current) {
      this.counts.replays++;
      return { status: 400, body: { error: 'invalid_grant', error_description: 'replayed' } };
    }
    const next = current + 1;
    this.generations.set(linkId, next);
    if (next === 1) this.counts.linksRefreshed++;
    if (next === 2) this.counts.linksRefreshedTwice++;
    return {
      status: 200,
      body: {
        access_token: accessTokenFor(linkId, next),
        token_type: 'Bearer',
        expires_in: ACCESS_TOKEN_LIFETIME_SECONDS,
        refresh_token: refreshTokenFor(linkId, next),
        scope: 'openid offline_access',
      },
    };
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
