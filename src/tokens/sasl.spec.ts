import { describe, expect, it } from '@jest/globals';
import { isSaslUser, xoauth2 } from './sasl.js';

describe('xoauth2', () => {
  it("matches the example of Google's XOAUTH2 documentation", () => {
    // developers.google.com/gmail/imap/xoauth2-protocol: user=someuser@example.com, token ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg
    expect(xoauth2('someuser@example.com', 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg')).toBe(
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
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
