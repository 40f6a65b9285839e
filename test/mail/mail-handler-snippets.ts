import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';

/** Tokens from Outlink for one link, each reused until it is near expiry. */
export class OutlinkTokens {
  private held: { accessToken: string; expiresAt: number | null } | null = null;

  constructor(
    private readonly outlinkUrl: string, // e.g. http://outlink:3000
    private readonly consumerKey: string, // an API key with role "consumer" for this link
    private readonly linkId: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** The held token while it has over a minute left, else a fresh one from Outlink. */
  async token(): Promise<string> {
    const held = this.held;
    if (held && (held.expiresAt === null || held.expiresAt - Date.now() > 60_000))
      return held.accessToken;
    return this.call('GET', '/token?minValidity=120');
  }

  /** A server refused `rejected`: Outlink renews it once, however many handlers report it. */
  renew(rejected: string): Promise<string> {
    return this.call('POST', '/token/renew', { rejectedAccessToken: rejected, minValidity: 120 });
  }

  private async call(method: string, path: string, body?: object): Promise<string> {
    const response = await this.fetchImpl(`${this.outlinkUrl}/v1/links/${this.linkId}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.consumerKey}`,
        ...(body && { 'content-type': 'application/json' }),
      },
      body: body && JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`Outlink answered ${response.status}: ${await response.text()}`);
    const answer = (await response.json()) as { accessToken: string; expiresAt: string | null };
    const expiresAt = answer.expiresAt === null ? null : Date.parse(answer.expiresAt);
    this.held = { accessToken: answer.accessToken, expiresAt };
    return answer.accessToken;
  }
}

export interface MailServer {
  host: string;
  port: number;
  secure: boolean; // true: TLS from the start (993, 465); false: STARTTLS when offered
  user: string; // the mailbox login
}

/** Runs `work` on a logged-in IMAP connection; an authentication failure renews once. */
export async function withImap<T>(
  tokens: OutlinkTokens,
  server: MailServer,
  work: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const accessToken = await tokens.token();
    const client = new ImapFlow({
      host: server.host,
      port: server.port,
      secure: server.secure,
      auth: { user: server.user, accessToken },
      logger: false,
    });
    client.on('error', () => undefined); // failures reach the awaited calls
    try {
      await client.connect();
    } catch (error) {
      if (attempt === 1 && (error as { authenticationFailed?: boolean }).authenticationFailed) {
        await tokens.renew(accessToken);
        continue;
      }
      throw error;
    }
    try {
      return await work(client);
    } finally {
      await client.logout();
    }
  }
}

/** Sends one message over SMTP with the link's token; an authentication failure renews once. */
export async function sendMail(
  tokens: OutlinkTokens,
  server: MailServer,
  message: nodemailer.SendMailOptions,
): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    const accessToken = await tokens.token();
    const transport = nodemailer.createTransport({
      host: server.host,
      port: server.port,
      secure: server.secure,
      auth: { type: 'OAuth2', user: server.user, accessToken },
    });
    try {
      const sent = await transport.sendMail(message);
      return sent.accepted.map(String);
    } catch (error) {
      if (attempt === 1 && (error as { code?: string }).code === 'EAUTH') {
        await tokens.renew(accessToken);
        continue;
      }
      throw error;
    } finally {
      transport.close();
    }
  }
}
