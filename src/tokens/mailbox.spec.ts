import { describe, expect, it } from '@jest/globals';
import { mailboxFor } from './mailbox.js';

describe('mailboxFor', () => {
  const account = { subject: 's', email: 'alice@example.com', username: 'alice' };

  it('prefers the requested user, then the account e-mail, then its username', () => {
    expect(mailboxFor({ requestedUser: 'shared@example.com', account })).toBe('shared@example.com');
    expect(mailboxFor({ account })).toBe('alice@example.com');
    expect(mailboxFor({ account: { ...account, email: null } })).toBe('alice');
  });

  it("puts the link's mail.user between the requested user and the account", () => {
    expect(mailboxFor({ requestedUser: 'a@example.com', mailUser: 'm@example.com', account })).toBe(
      'a@example.com',
    );
    expect(mailboxFor({ mailUser: 'm@example.com', account })).toBe('m@example.com');
    // An app-only token: no account, the admin's mailbox.
    expect(mailboxFor({ mailUser: 'helpdesk@example.com', account: null })).toBe(
      'helpdesk@example.com',
    );
    // A service account with domain-wide delegation acts as its subject.
    expect(mailboxFor({ subject: 'alice@example.com', account: null })).toBe('alice@example.com');
    expect(mailboxFor({ mailUser: 'm@example.com', subject: 'alice@example.com' })).toBe(
      'm@example.com',
    );
  });

  it('is null when nothing is known (an app-only token without user)', () => {
    expect(mailboxFor({ account: { subject: 's', email: null, username: null } })).toBeNull();
    expect(mailboxFor({ account: null })).toBeNull();
    expect(mailboxFor({})).toBeNull();
  });
});
