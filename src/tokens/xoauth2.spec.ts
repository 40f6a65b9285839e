import { describe, expect, it } from '@jest/globals';
import { xoauth2 } from './xoauth2.js';

describe('xoauth2', () => {
  it("matches the example of Google's XOAUTH2 documentation", () => {
    // developers.google.com/gmail/imap/xoauth2-protocol: user=someuser@example.com, token ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg
    expect(xoauth2('someuser@example.com', 'ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg')).toBe(
      'dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==',
    );
  });
});
