import type { LinkAccount } from '../links/link.entity.js';

/**
 * Which mailbox the SASL strings (`xoauth2`, `oauthbearer`) of a token answer and the mail check
 * are built for (SPEC §11, §12, §15): the `user` the consumer asked for, else the mailbox the
 * admin named in the link's mail settings, else the user a service account acts as (jwt_bearer
 * `subject`), else the e-mail of the account that consented, else its username; null when none
 * is known, and then the strings are left out. An app-only (client credentials) token has no
 * consenting account, so it needs `user` or `mail.user`.
 */
export function mailboxFor(known: {
  requestedUser?: string | null;
  mailUser?: string | null;
  subject?: string | null;
  account?: LinkAccount | null;
}): string | null {
  return (
    known.requestedUser ??
    known.mailUser ??
    known.subject ??
    known.account?.email ??
    known.account?.username ??
    null
  );
}
