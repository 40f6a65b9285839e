import { describe, expect, it } from '@jest/globals';
import { identityFromIdToken } from './id-token-identity.js';

const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const idToken = (claims: object): string =>
  `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;

describe('identityFromIdToken', () => {
  it('reads subject, e-mail and username', () => {
    expect(
      identityFromIdToken(
        idToken({ sub: 's1', aud: 'client', email: 'a@example.com', preferred_username: 'alice' }),
        'client',
      ),
    ).toEqual({ subject: 's1', email: 'a@example.com', username: 'alice' });
    expect(
      identityFromIdToken(idToken({ sub: 's1', aud: ['x', 'client'], upn: 'a@corp' }), 'client'),
    ).toEqual({
      subject: 's1',
      email: null,
      username: 'a@corp',
    });
  });

  it('is null without a token, for another audience, without a subject, or for garbage', () => {
    expect(identityFromIdToken(null, 'client')).toBeNull();
    expect(identityFromIdToken(idToken({ sub: 's1', aud: 'other' }), 'client')).toBeNull();
    expect(identityFromIdToken(idToken({ aud: 'client' }), 'client')).toBeNull();
    expect(identityFromIdToken('not.a.jwt', 'client')).toBeNull();
  });

  it('drops claims that are not short strings', () => {
    expect(
      identityFromIdToken(
        idToken({ sub: 's1', aud: 'client', email: 42, preferred_username: 'x'.repeat(321) }),
        'client',
      ),
    ).toEqual({ subject: 's1', email: null, username: null });
  });
});
