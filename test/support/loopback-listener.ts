import { createServer as createHttpServer, type RequestListener } from 'node:http';
import {
  connect,
  createServer as createTcpServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';

/**
 * A server on a loopback address that counts the TCP connections it accepted: the proof that a
 * refused outbound request never reached it.
 */
export interface LoopbackListener {
  /** `127.0.0.1` or `::1`. */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` or `http://[::1]:<port>`. */
  url: string;
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

async function listen(server: Server, host: string): Promise<LoopbackListener> {
  let connections = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    get connections() {
      return connections;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A raw TCP listener; `onSocket` decides what a connection gets (default: a banner that is not
 * HTTP, as an SSH or SMTP server would send, then silence).
 */
export function startTcpListener(
  onSocket: (socket: Socket) => void = (socket) => socket.write('SSH-2.0-OpenSSH_9.2\r\n'),
  host = '127.0.0.1',
): Promise<LoopbackListener> {
  return listen(createTcpServer(onSocket), host);
}

/** A tiny HTTP server on loopback, for answers a real provider will not give on request. */
export function startHttpListener(
  handler: RequestListener,
  host = '127.0.0.1',
): Promise<LoopbackListener> {
  return listen(createHttpServer(handler), host);
}

/**
 * A TCP proxy on 127.0.0.1 to `targetUrl`'s port on 127.0.0.1 (e.g. a test provider), counting
 * the connections that reach it. The provider behind it sees the proxy's Host header, which the
 * token and revocation endpoints do not check.
 */
export function startCountingProxy(targetUrl: string): Promise<LoopbackListener> {
  const targetPort = Number(new URL(targetUrl).port);
  return startTcpListener((socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const listener = await startTcpListener();
  await listener.close();
  return listener.port;
}
