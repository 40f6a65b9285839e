/**
 * Which mailbox the SASL strings (`xoauth2`, `oauthbearer`) of a token answer are built for, or
 * null when none is known (SPEC §11, §15). An app-only (client credentials) token names no user at
 * all, so without a known mailbox there is nothing to build them for.
 *
 * The one place that decides it: today the `user` query parameter; a link's `mail.user` and the
 * account that consented (SPEC §12) belong here too, after it.
 */
export function mailboxFor(known: { requestedUser?: string }): string | null {
  return known.requestedUser ?? null;
}
