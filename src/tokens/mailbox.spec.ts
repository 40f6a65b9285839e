import { describe, expect, it } from '@jest/globals';
import { mailboxFor } from './mailbox.js';

describe('mailboxFor', () => {
  const account = { subject: 's', email: 'alice@example.com', username: 'alice' };

  it('prefers the requested user, then the account e-mail, then its username', () => {
    expect(mailboxFor({ requestedUser: 'shared@example.com', account })).toBe('shared@example.com');
    expect(mailboxFor({ account })).toBe('alice@example.com');
    expect(mailboxFor({ account: { ...account, email: null } })).toBe('alice');
  });

  it('is null when nothing is known (an app-only token without user)', () => {
    expect(mailboxFor({ account: { subject: 's', email: null, username: null } })).toBeNull();
    expect(mailboxFor({ account: null })).toBeNull();
    expect(mailboxFor({})).toBeNull();
  });
});
