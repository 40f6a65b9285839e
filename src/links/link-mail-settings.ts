import type { FieldError } from '../common/app-error.js';

export const MAIL_PROTOCOLS = ['imap', 'pop3', 'smtp'] as const;
export type MailProtocol = (typeof MAIL_PROTOCOLS)[number];
export const MAIL_SECURITY = ['tls', 'starttls', 'none'] as const;
export type MailSecurity = (typeof MAIL_SECURITY)[number];

/** One mail server a link's token logs into (SPEC §12). */
export interface MailServer {
  host: string;
  port: number;
  security: MailSecurity;
}

/** `mail` on a link: the servers its mail check logs into, and the mailbox login. */
export interface MailSettings {
  /** The mailbox login; default: the account's e-mail (else username). */
  user?: string;
  imap?: MailServer;
  pop3?: MailServer;
  smtp?: MailServer;
}

/** The result of one login in a mail check. */
export interface MailCheckResult {
  protocol: MailProtocol;
  ok: boolean;
  /** The SASL mechanism used (XOAUTH2 or OAUTHBEARER), null when it never got that far. */
  mechanism: string | null;
  latencyMs: number;
  /** The server's last words: its refusal verbatim, or its success line. */
  serverResponse: string;
}

/** The last mail check of a link (`mailCheck` on the link, the answer of POST /mail-check). */
export interface MailCheck {
  checkedAt: string;
  results: MailCheckResult[];
}

/** The configured servers, in protocol order. */
export function configuredServers(
  mail: MailSettings | null,
): { protocol: MailProtocol; server: MailServer }[] {
  if (mail === null) return [];
  return MAIL_PROTOCOLS.flatMap((protocol) => {
    const server = mail[protocol];
    return server ? [{ protocol, server }] : [];
  });
}

/** Rules across fields the DTO cannot express: plain-text mail only where insecure endpoints are. */
export function mailSettingsErrors(mail: MailSettings, allowInsecure: boolean): FieldError[] {
  if (allowInsecure) return [];
  return configuredServers(mail)
    .filter(({ server }) => server.security === 'none')
    .map(({ protocol }) => ({
      field: `mail.${protocol}.security`,
      message: 'security "none" sends the token in clear text; it needs ALLOW_INSECURE_ENDPOINTS',
    }));
}
