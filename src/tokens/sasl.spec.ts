import { describe, expect, it } from '@jest/globals';
import { isSaslUser, oauthbearer, xoauth2 } from './sasl.js';

const decoded = (base64: string): string => Buffer.from(base64, 'base64').toString('utf8');

describe('xoauth2', () => {
  it("matches the example of Google's XOAUTH2 documentation", () => {
    // developers.google.com/gmail/imap/xoauth2-protocol: user=someuser@example.com, token ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg
    expect(xoauth2('someuser@example.com', 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg')).toBe(
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
    );
  });
});

describe('oauthbearer', () => {
  // RFC 7628 §4.1, the IMAP example's initial client response, verbatim. It carries the optional
  // host and port pairs, which Outlink cannot know (the consumer picks the mail server).
  const RFC_7628_EXAMPLE =
    'bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB';
  const RFC_7628_TOKEN = 'vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==';

  it("is RFC 7628's example without its optional host and port pairs", () => {
    const example = decoded(RFC_7628_EXAMPLE);
    expect(example).toBe(
      `n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer ${RFC_7628_TOKEN}\x01\x01`,
    );
    const withoutHostAndPort = example.replace('host=server.example.com\x01port=143\x01', '');
    expect(decoded(oauthbearer('user@example.com', RFC_7628_TOKEN))).toBe(withoutHostAndPort);
    expect(oauthbearer('user@example.com', RFC_7628_TOKEN)).toBe(
      Buffer.from(withoutHostAndPort, 'utf8').toString('base64'),
    );
  });

  it('escapes , and = in the user as a gs2 saslname (=2C, =3D), and nothing else', () => {
    expect(decoded(oauthbearer('a,b=c@example.com', 't'))).toBe(
      'n,a=a=2Cb=3Dc@example.com,\x01auth=Bearer t\x01\x01',
    );
    // An "=2C" the user really has is escaped too, so the server decodes it back unchanged.
    expect(decoded(oauthbearer('x=2C', 't'))).toBe('n,a=x=3D2C,\x01auth=Bearer t\x01\x01');
    expect(decoded(oauthbearer('support', 't'))).toBe('n,a=support,\x01auth=Bearer t\x01\x01');
    expect(decoded(oauthbearer('jörg@exämple.de', 't'))).toBe(
      'n,a=jörg@exämple.de,\x01auth=Bearer t\x01\x01',
    );
  });
});

describe('isSaslUser', () => {
  it('refuses exactly the whitespace (\\s) and control characters (Cc) of the BMP', () => {
    const wrong: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const character = String.fromCharCode(code);
      if (code >= 0xd800 && code <= 0xdfff) continue; // surrogate halves are not characters
      const expected = !/[\s\p{Cc}]/u.test(character);
      if (isSaslUser(`a${character}b`) !== expected) wrong.push(code.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('takes 1 to 320 characters', () => {
    expect(isSaslUser('')).toBe(false);
    expect(isSaslUser('s')).toBe(true);
    expect(isSaslUser('x'.repeat(320))).toBe(true);
    expect(isSaslUser('x'.repeat(321))).toBe(false);
  });
});
