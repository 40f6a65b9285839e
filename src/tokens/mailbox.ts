import type { LinkAccount } from '../links/link.entity.js';

/**
 * The mailbox login that `xoauth2`/`oauthbearer` are built for (SPEC §12): the `user` the
 * consumer asked for, else the e-mail of the account that consented, else its username;
 * undefined when none is known (the SASL strings are then left out).
 */
export function mailboxFor(
  account: LinkAccount | null,
  requestedUser: string | undefined,
): string | undefined {
  return requestedUser ?? account?.email ?? account?.username ?? undefined;
}
