import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { oauthbearer, xoauth2 } from '../tokens/sasl.js';
import type { LoginOutcome, LoginTarget } from './mail-login.js';

/** Reads CRLF-terminated lines from a socket, one awaited line at a time, with a timeout. */
class LineReader {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiting: { resolve: (line: string) => void; reject: (error: Error) => void } | null =
    null;
  private failure: Error | null = null;

  constructor(
    socket: Socket | TLSSocket,
    private readonly timeoutMs: number,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      for (let end = this.buffer.indexOf('\r\n'); end >= 0; end = this.buffer.indexOf('\r\n')) {
        this.lines.push(this.buffer.slice(0, end));
        this.buffer = this.buffer.slice(end + 2);
      }
      this.deliver();
    });
    const fail = (error: Error): void => {
      this.failure ??= error;
      this.deliver();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  next(): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server did not answer in time')),
        this.timeoutMs,
      );
      this.waiting = {
        resolve: (line) => (clearTimeout(timer), resolve(line)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      };
      this.deliver();
    });
  }

  private deliver(): void {
    if (this.waiting === null) return;
    const line = this.lines.shift();
    const waiting = this.waiting;
    if (line !== undefined) {
      this.waiting = null;
      waiting.resolve(line);
    } else if (this.failure !== null) {
      this.waiting = null;
      waiting.reject(this.failure);
    }
  }
}

function opened(socket: Socket | TLSSocket, event: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection timed out')), timeoutMs);
    socket.once(event, () => (clearTimeout(timer), resolve()));
    socket.once('error', (error: Error) => (clearTimeout(timer), reject(error)));
  });
}

/**
 * POP3 (RFC 1939, AUTH per RFC 5034) with XOAUTH2 or OAUTHBEARER, then STAT. Hand-written: no
 * well-kept POP3 client library for Node supports XOAUTH2 or OAUTHBEARER, and the exchange is
 * five commands.
 */
export async function pop3Login(target: LoginTarget): Promise<LoginOutcome> {
  const { server, timeoutMs } = target;
  const servername = /^[\d.:]+$/.test(server.host) ? undefined : server.host;
  let socket: Socket | TLSSocket =
    server.security === 'tls'
      ? connectTls({ host: target.address, port: server.port, servername })
      : connectTcp({ host: target.address, port: server.port });
  let mechanism: string | null = null;
  try {
    await opened(socket, server.security === 'tls' ? 'secureConnect' : 'connect', timeoutMs);
    let reader = new LineReader(socket, timeoutMs);
    const send = async (command: string): Promise<string> => {
      socket.write(`${command}\r\n`);
      return reader.next();
    };
    const greeting = await reader.next();
    if (!greeting.startsWith('+OK')) return failed(greeting, mechanism);

    if (server.security === 'starttls') {
      const answer = await send('STLS');
      if (!answer.startsWith('+OK')) return failed(answer, mechanism);
      socket.removeAllListeners('data');
      socket = connectTls({ socket, servername });
      await opened(socket, 'secureConnect', timeoutMs);
      reader = new LineReader(socket, timeoutMs);
    }

    const capabilities: string[] = [];
    const capa = await send('CAPA');
    if (capa.startsWith('+OK'))
      for (let line = await reader.next(); line !== '.'; line = await reader.next())
        capabilities.push(line.toUpperCase());
    const sasl = capabilities.find((line) => line.startsWith('SASL ')) ?? '';
    mechanism = / XOAUTH2\b/.test(sasl)
      ? 'XOAUTH2'
      : / OAUTHBEARER\b/.test(sasl)
        ? 'OAUTHBEARER'
        : null;
    if (mechanism === null)
      return failed(
        `the server offers neither XOAUTH2 nor OAUTHBEARER (${sasl || 'no SASL'})`,
        null,
      );

    const initial =
      mechanism === 'XOAUTH2'
        ? xoauth2(target.user, target.accessToken)
        : oauthbearer(target.user, target.accessToken);
    let answer = await send(`AUTH ${mechanism} ${initial}`);
    // A refusal may come as a challenge carrying the error; the client ends the exchange.
    if (answer.startsWith('+ ') || answer === '+')
      answer = await send(mechanism === 'XOAUTH2' ? '' : 'AQ==');
    if (!answer.startsWith('+OK')) return { ...failed(answer, mechanism), refused: true };

    const stat = await send('STAT');
    socket.write('QUIT\r\n');
    return stat.startsWith('+OK')
      ? { ok: true, refused: false, mechanism, serverResponse: stat }
      : failed(stat, mechanism);
  } catch (error) {
    return failed(error instanceof Error ? error.message : String(error), mechanism);
  } finally {
    socket.destroy();
  }
}

function failed(serverResponse: string, mechanism: string | null): LoginOutcome {
  return { ok: false, refused: false, mechanism, serverResponse };
}
