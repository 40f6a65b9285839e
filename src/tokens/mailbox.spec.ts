import { describe, expect, it } from '@jest/globals';
import { mailboxFor } from './mailbox.js';

describe('mailboxFor', () => {
  const account = { subject: 's', email: 'alice@example.com', username: 'alice' };

  it('prefers the requested user, then the account e-mail, then its username', () => {
    expect(mailboxFor(account, 'shared@example.com')).toBe('shared@example.com');
    expect(mailboxFor(account, undefined)).toBe('alice@example.com');
    expect(mailboxFor({ ...account, email: null }, undefined)).toBe('alice');
  });

  it('is undefined when nothing is known', () => {
    expect(mailboxFor({ subject: 's', email: null, username: null }, undefined)).toBeUndefined();
    expect(mailboxFor(null, undefined)).toBeUndefined();
  });
});
