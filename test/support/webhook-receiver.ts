import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, as it arrived. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered (undefined while held). */
  answeredWith?: number;
}

/** What the receiver answers: a status (with headers), or nothing until `releaseHeld`. */
export type ReceiverAnswer =
  { status: number; headers?: Record<string, string>; delayMs?: number } | 'hold';

/** A verified message: the body Webhook.verify parsed, with its id. */
export interface VerifiedWebhook {
  id: string;
  type: string;
  timestamp: string;
  data: Record<string, unknown>;
}

/**
 * A webhook receiver on loopback, as an operator's relay would run one: it records every request,
 * answers what the test says (200 by default, a 503, a 410, or holds the request open), and can
 * be closed (connections refused) and opened again on the same port.
 */
export class WebhookReceiver {
  readonly requests: ReceivedWebhook[] = [];
  private answer: ReceiverAnswer = { status: 200 };
  private readonly held: { request: ReceivedWebhook; response: ServerResponse }[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received: ReceivedWebhook = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.requests.push(received);
      const answer = this.answer;
      if (answer === 'hold') this.held.push({ request: received, response });
      else if (answer.delayMs)
        setTimeout(() => this.reply(received, response, answer), answer.delayMs);
      else this.reply(received, response, answer);
      this.server.emit('received');
    });
  });
  private port = 0;

  static async start(): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    receiver.server.on('connection', (socket: Socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    await receiver.listen();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/outlink-events`;
  }

  respondWith(answer: ReceiverAnswer): void {
    this.answer = answer;
  }

  /** Answers every held request with `status`. */
  releaseHeld(status = 200): void {
    for (const { request, response } of this.held.splice(0))
      this.reply(request, response, { status });
  }

  /** Resolves once `count` requests in all have arrived. */
  waitForRequests(count: number, timeoutMs = 15_000): Promise<void> {
    return this.waitUntil((requests) => requests.length >= count, `${count} request(s)`, timeoutMs);
  }

  /** Resolves once the requests received so far satisfy `condition`; checked on each arrival. */
  async waitUntil(
    condition: (requests: ReceivedWebhook[]) => boolean,
    what = 'the expected requests',
    timeoutMs = 15_000,
  ): Promise<void> {
    const deadline = AbortSignal.timeout(timeoutMs);
    while (!condition(this.requests)) {
      try {
        await once(this.server, 'received', { signal: deadline });
      } catch {
        throw new Error(
          `the receiver did not get ${what} within ${timeoutMs} ms (${this.requests.length} received)`,
        );
      }
    }
  }

  /**
   * Every request verified with the `standardwebhooks` package, as a receiver should.
   * @throws WebhookVerificationError for any request whose signature does not hold
   */
  verified(secret: string): VerifiedWebhook[] {
    const webhook = new Webhook(secret);
    return this.requests.map((request) => {
      const payload = webhook.verify(request.body, request.headers as Record<string, string>) as {
        type: string;
        timestamp: string;
        data: Record<string, unknown>;
      };
      return { id: String(request.headers['webhook-id']), ...payload };
    });
  }

  /** Stops listening and drops open connections: the next delivery finds the port closed. */
  async closePort(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async openPort(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.closePort();
  }

  private async listen(port = 0): Promise<void> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  private reply(
    request: ReceivedWebhook,
    response: ServerResponse,
    answer: { status: number; headers?: Record<string, string> },
  ): void {
    request.answeredWith = answer.status;
    response.writeHead(answer.status, answer.headers).end();
  }
}
