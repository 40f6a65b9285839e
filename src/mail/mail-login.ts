import { ImapFlow } from 'imapflow';
import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { MailProtocol, MailServer } from '../links/link-mail-settings.js';
import { oauthbearer, xoauth2 } from '../tokens/sasl.js';
import { pop3Login } from './pop3-login.js';

/** One login attempt with a token, as the mail check reports it. */
export interface LoginOutcome {
  ok: boolean;
  /** The server refused the credentials (worth one renewal), as opposed to a network failure. */
  refused: boolean;
  mechanism: string | null;
  serverResponse: string;
}

/** Where and as whom to log in; `address` is the host's address the outbound policy approved. */
export interface LoginTarget {
  server: MailServer;
  address: string;
  user: string;
  accessToken: string;
  timeoutMs: number;
}

/** The TLS name to verify: the configured host, unless it is an address. */
export const tlsNameOf = (host: string): string | undefined => (isIP(host) ? undefined : host);

/** Logs in over one protocol with XOAUTH2 or OAUTHBEARER only, never a password mechanism. */
export function login(protocol: MailProtocol, target: LoginTarget): Promise<LoginOutcome> {
  switch (protocol) {
    case 'imap':
      return imapLogin(target);
    case 'pop3':
      return pop3Login(target);
    case 'smtp':
      return smtpLogin(target);
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** IMAP with imapflow: OAUTHBEARER when offered, else XOAUTH2 (it has no password); SELECT INBOX. */
async function imapLogin(target: LoginTarget): Promise<LoginOutcome> {
  const { server } = target;
  const client = new ImapFlow({
    host: target.address,
    port: server.port,
    secure: server.security === 'tls',
    doSTARTTLS: server.security === 'starttls',
    servername: tlsNameOf(server.host),
    auth: { user: target.user, accessToken: target.accessToken },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: target.timeoutMs,
    greetingTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
  });
  client.on('error', () => undefined); // reported by the awaited call
  // The mechanism imapflow used (marked true once it succeeded), else the one it would pick.
  const mechanism = (): string | null => {
    // Not in imapflow's declarations, but kept by it for exactly this (AUTH=... -> succeeded).
    const offered = (client as unknown as { authCapabilities: Map<string, boolean> })
      .authCapabilities;
    const used = [...offered].find(([, succeeded]) => succeeded)?.[0];
    if (used !== undefined) return used.replace(/^AUTH=/, '');
    if (offered.has('AUTH=OAUTHBEARER')) return 'OAUTHBEARER';
    return offered.has('AUTH=XOAUTH2') ? 'XOAUTH2' : null;
  };
  try {
    await client.connect();
    const inbox = await client.mailboxOpen('INBOX', { readOnly: true });
    return {
      ok: true,
      refused: false,
      mechanism: mechanism(),
      serverResponse: `SELECT INBOX: ${inbox.exists} messages`,
    };
  } catch (error) {
    const failure = error as { authenticationFailed?: boolean; response?: unknown };
    return {
      ok: false,
      refused: failure.authenticationFailed === true,
      mechanism: mechanism(),
      serverResponse: typeof failure.response === 'string' ? failure.response : messageOf(error),
    };
  } finally {
    client.close();
  }
}

class SmtpRefusal extends Error {}

/** SMTP with nodemailer's connection: EHLO, then AUTH XOAUTH2 (or OAUTHBEARER); no mail is sent. */
async function smtpLogin(target: LoginTarget): Promise<LoginOutcome> {
  const { server } = target;
  let mechanism: string | null = null;
  // A custom handler rather than nodemailer's own XOAUTH2: that one retries once with the same
  // token and hides the server's words; the mail check renews itself and reports them.
  const authenticate = async (context: {
    authMethods: string[];
    sendCommand: (command: string) => Promise<{ status: number; response: string }>;
  }): Promise<void> => {
    mechanism = context.authMethods.includes('XOAUTH2') ? 'XOAUTH2' : 'OAUTHBEARER';
    const initial =
      mechanism === 'XOAUTH2'
        ? xoauth2(target.user, target.accessToken)
        : oauthbearer(target.user, target.accessToken);
    let reply = await context.sendCommand(`AUTH ${mechanism} ${initial}`);
    // A failure comes as a challenge carrying the error; the client ends the exchange.
    if (reply.status === 334)
      reply = await context.sendCommand(mechanism === 'XOAUTH2' ? '' : 'AQ==');
    if (reply.status !== 235) throw new SmtpRefusal(reply.response);
    lastResponse = reply.response;
  };
  let lastResponse = '';
  const connection = new SMTPConnection({
    host: target.address,
    port: server.port,
    secure: server.security === 'tls',
    requireTLS: server.security === 'starttls',
    ignoreTLS: server.security === 'none',
    servername: tlsNameOf(server.host),
    name: 'outlink.mail-check',
    connectionTimeout: target.timeoutMs,
    greetingTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
    logger: false,
    customAuth: { XOAUTH2: authenticate },
  } as SMTPConnection.Options);
  connection.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      connection.once('error', reject);
      connection.connect(() => resolve());
    });
    await new Promise<void>((resolve, reject) =>
      connection.login(
        {
          method: 'XOAUTH2',
          user: target.user,
        } as unknown as SMTPConnection.AuthenticationCredentials,
        (error) => (error ? reject(error) : resolve()),
      ),
    );
    return { ok: true, refused: false, mechanism, serverResponse: lastResponse };
  } catch (error) {
    const failure = error as { response?: unknown; code?: string };
    const refusal = error instanceof SmtpRefusal || failure.code === 'EAUTH';
    return {
      ok: false,
      refused: refusal && typeof failure.response === 'string',
      mechanism,
      serverResponse:
        error instanceof SmtpRefusal
          ? error.message
          : typeof failure.response === 'string'
            ? failure.response
            : messageOf(error),
    };
  } finally {
    connection.quit();
    connection.close();
  }
}
