import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fault server answers to the next POSTs to /token. */
export type Fault =
  | { status?: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | 'hang'
  /** Destroys the socket without answering. */
  | 'close'
  /**
   * Forwards the request to a real token endpoint and relays its answer (after delayMs). A request
   * whose client has gone by then (timed out, or its process was killed) is not forwarded: the
   * provider never sees it, so a refresh token in it stays unused.
   */
  | {
      proxyTo: string;
      delayMs?: number;
      /** Runs once the request is read and before it is forwarded (e.g. stop the database). */
      beforeForward?: () => Promise<void>;
    };

export interface FaultServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** `${url}/token`. */
  tokenEndpoint: string;
  /** Sets the answer for every following POST to /token (until changed). */
  respondWith(fault: Fault): void;
  /** POSTs to /token received so far. */
  readonly requests: number;
  /** Every `refresh_token` parameter received, in order: a value twice is a replay. */
  readonly presentedRefreshTokens: string[];
  close(): Promise<void>;
}

/**
 * A hand-made token endpoint that misbehaves on demand, for testing how ProviderClient classifies
 * failures that a real provider will not produce on request. Default answer: 500 with an empty
 * JSON object. Any other path or method gets 404.
 */
export async function startFaultServer(): Promise<FaultServer> {
  let fault: Fault = { status: 500, body: '{}' };
  let requests = 0;
  const presentedRefreshTokens: string[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  type Answer = { status?: number; body?: string; headers?: Record<string, string> };
  const forward = async (
    target: string,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<Answer> => {
    const upstream = await fetch(target, {
      method: 'POST',
      headers: Object.fromEntries(
        Object.entries(headers).filter(
          (entry): entry is [string, string] =>
            typeof entry[1] === 'string' &&
            !['host', 'content-length', 'connection'].includes(entry[0]),
        ),
      ),
      body,
    });
    return {
      status: upstream.status,
      body: await upstream.text(),
      headers: { 'content-type': upstream.headers.get('content-type') ?? 'application/json' },
    };
  };

  const answer = (response: ServerResponse, current: Answer): void => {
    response.writeHead(current.status ?? 200, {
      'content-type': 'application/json',
      ...current.headers,
    });
    response.end(current.body ?? '');
  };

  const server = createServer((request, response) => {
    if (request.method !== 'POST' || request.url?.split('?')[0] !== '/token') {
      response.writeHead(404).end();
      return;
    }
    requests += 1;
    const current = fault;
    // Read the body fully first, like a real server, so the client is not cut off mid-send.
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const refreshToken = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get(
        'refresh_token',
      );
      if (refreshToken !== null) presentedRefreshTokens.push(refreshToken);
      if (current === 'hang') return;
      if (typeof current === 'object' && 'proxyTo' in current) {
        const relay = (): void => {
          if (request.socket.destroyed) return;
          (current.beforeForward ?? (() => Promise.resolve()))()
            .then(() => forward(current.proxyTo, request.headers, Buffer.concat(chunks)))
            .then(
              (upstream) => answer(response, upstream),
              () => response.writeHead(502).end(),
            );
        };
        if (current.delayMs === undefined) relay();
        else {
          const timer = setTimeout(() => {
            timers.delete(timer);
            relay();
          }, current.delayMs);
          timers.add(timer);
        }
        return;
      }
      if (current === 'close') {
        request.socket.destroy();
        return;
      }
      if (current.delayMs === undefined) {
        answer(response, current);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer(response, current);
      }, current.delayMs);
      timers.add(timer);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    tokenEndpoint: `${url}/token`,
    respondWith(next: Fault): void {
      fault = next;
    },
    get requests(): number {
      return requests;
    },
    get presentedRefreshTokens(): string[] {
      return [...presentedRefreshTokens];
    },
    async close(): Promise<void> {
      for (const timer of timers) clearTimeout(timer);
      // Hanging requests would keep server.close() waiting forever.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}
