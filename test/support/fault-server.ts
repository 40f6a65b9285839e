import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fault server answers to the next POSTs to /token. */
export type Fault =
  | { status?: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | 'hang'
  /** Destroys the socket without answering. */
  | 'close';

export interface FaultServer {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  /** `${url}/token`. */
  tokenEndpoint: string;
  /** Sets the answer for every following POST to /token (until changed). */
  respondWith(fault: Fault): void;
  /** POSTs to /token received so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A hand-made token endpoint that misbehaves on demand, for testing how OAuthClient classifies
 * failures that a real provider will not produce on request. Default answer: 500 with an empty
 * JSON object. Any other path or method gets 404.
 */
export async function startFaultServer(): Promise<FaultServer> {
  let fault: Fault = { status: 500, body: '{}' };
  let requests = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const answer = (response: ServerResponse, current: Exclude<Fault, 'hang' | 'close'>): void => {
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
    request.resume();
    request.on('end', () => {
      if (current === 'hang') return;
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
