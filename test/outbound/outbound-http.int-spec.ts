import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LookupAddress } from 'node:dns';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { loadConfig } from '../../src/config/app-config.js';
import { NOTHING_ALLOWED } from '../../src/config/outbound-allow.js';
import { MAX_RESPONSE_BYTES, OutboundHttp } from '../../src/outbound/outbound-http.js';
import {
  checkOutboundAddress,
  OutboundPolicy,
  policyLookup,
  type ResolveAll,
} from '../../src/outbound/outbound-policy.js';
import {
  OutboundAddressRefused,
  OutboundResponseRefused,
} from '../../src/outbound/outbound.errors.js';
import { startHttpListener, type LoopbackListener } from '../support/loopback-listener.js';

function outboundHttp(outboundAllow: string): OutboundHttp {
  return new OutboundHttp(new OutboundPolicy(loadConfig({ OUTBOUND_ALLOW: outboundAllow })));
}

async function failureOf(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** A resolver whose answers the test scripts, as a hostile DNS server would. */
function scriptedResolver(...answers: string[][]): ResolveAll {
  let call = 0;
  return (_hostname, callback) => {
    const addresses = answers[Math.min(call++, answers.length - 1)];
    const entries: LookupAddress[] = addresses.map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
    queueMicrotask(() => callback(null, entries));
  };
}

describe('OutboundHttp and the connect-time check', () => {
  let server: LoopbackListener;
  let answer: (response: import('node:http').ServerResponse) => void;
  const clients: OutboundHttp[] = [];
  const client = (outboundAllow: string): OutboundHttp => {
    const http = outboundHttp(outboundAllow);
    clients.push(http);
    return http;
  };

  beforeAll(async () => {
    server = await startHttpListener((_request, response) => answer(response));
  });
  afterAll(async () => {
    await Promise.all(clients.map((http) => http.onApplicationShutdown()));
    await server?.close();
  });

  it('refuses loopback literals and names before connecting', async () => {
    const strict = client('');
    for (const url of [
      `${server.url}/`,
      `http://localhost:${server.port}/`,
      `http://[::ffff:127.0.0.1]:${server.port}/`,
      `http://0.0.0.0:${server.port}/`,
    ]) {
      const error = await failureOf(() => strict.fetch(url));
      expect(error).toBeInstanceOf(OutboundAddressRefused);
      expect((error as Error).message).toMatch(/outbound policy/);
    }
    expect(server.connections).toBe(0);
  });

  it('lets a host-name exception through whatever it resolves to, but not the bare address', async () => {
    answer = (response) => response.end('hello');
    const byName = client('localhost');

    const response = await byName.fetch(`http://localhost:${server.port}/`);
    expect(response).toBeInstanceOf(Response); // Node's own Response, as openid-client expects
    expect(await response.text()).toBe('hello');

    const before = server.connections;
    expect(await failureOf(() => byName.fetch(`${server.url}/`))).toBeInstanceOf(
      OutboundAddressRefused,
    );
    expect(server.connections).toBe(before);
  });

  it('refuses at connect time a name that resolved to a public address when it was saved', async () => {
    // DNS rebinding: the first answer (checked when an admin saved the endpoint) is public, the
    // next one (when Outlink connects) is loopback.
    const resolver = scriptedResolver(['93.184.215.14'], ['127.0.0.1']);
    await expect(
      checkOutboundAddress('rebind.example', NOTHING_ALLOWED, resolver),
    ).resolves.toEqual(['93.184.215.14']);
    const before = server.connections;

    const error = await new Promise<Error>((resolve) => {
      const socket = connect({
        host: 'rebind.example',
        port: server.port,
        lookup: policyLookup(NOTHING_ALLOWED, resolver),
      });
      socket.on('connect', () => resolve(new Error('connected')));
      socket.on('error', resolve);
    });

    expect(error).toBeInstanceOf(OutboundAddressRefused);
    expect(server.connections).toBe(before);
  });

  it('refuses a name when any one of its addresses is not public', async () => {
    const resolver = scriptedResolver(['93.184.215.14', '10.0.0.7']);

    const error = await failureOf(() =>
      checkOutboundAddress('mixed.example', NOTHING_ALLOWED, resolver),
    );

    expect(error).toBeInstanceOf(OutboundAddressRefused);
    expect((error as Error).message).toBe(
      'mixed.example resolves to a private (RFC 1918) address, which the outbound policy refuses (OUTBOUND_ALLOW can make an exception)',
    );
  });

  it('reads exactly 1 MiB and refuses one byte more, with and without content-length', async () => {
    const http = client('127.0.0.1');
    answer = (response) => response.end(Buffer.alloc(MAX_RESPONSE_BYTES, 'a'));
    expect((await (await http.fetch(`${server.url}/`)).arrayBuffer()).byteLength).toBe(
      MAX_RESPONSE_BYTES,
    );

    answer = (response) => response.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 'a'));
    const declared = await failureOf(() => http.fetch(`${server.url}/`));
    expect(declared).toMatchObject({ reason: 'too_large', status: 200 });

    answer = (response) => {
      response.write(Buffer.alloc(MAX_RESPONSE_BYTES, 'a'));
      response.end('a');
    };
    const chunked = await failureOf(() => http.fetch(`${server.url}/`));
    expect(chunked).toBeInstanceOf(OutboundResponseRefused);
    expect(chunked).toMatchObject({ reason: 'too_large' });
  });

  it('counts decompressed bytes: a small gzip of 8 MiB is refused', async () => {
    const http = client('127.0.0.1');
    const bomb = gzipSync(Buffer.alloc(8 * MAX_RESPONSE_BYTES));
    expect(bomb.length).toBeLessThan(MAX_RESPONSE_BYTES / 16);
    answer = (response) => {
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-length': bomb.length });
      response.end(bomb);
    };

    expect(await failureOf(() => http.fetch(`${server.url}/`))).toMatchObject({
      reason: 'too_large',
    });
  });

  it('does not follow redirects', async () => {
    const http = client('127.0.0.1');
    let requests = 0;
    answer = (response) => {
      requests += 1;
      response.writeHead(301, { location: '/elsewhere' }).end();
    };

    const error = await failureOf(() => http.fetch(`${server.url}/`));

    expect(error).toMatchObject({ reason: 'redirect', status: 301 });
    expect(requests).toBe(1);
  });
});
