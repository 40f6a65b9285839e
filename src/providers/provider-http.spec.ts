import { describe, expect, it } from '@jest/globals';
import type * as openid from 'openid-client';
import { toDeviceAuthorization } from './provider-http.js';

const ANSWER = {
  device_code: 'dc',
  user_code: 'ABCD-EFGH',
  verification_uri: 'https://as.example/device',
  expires_in: 600,
} as openid.DeviceAuthorizationResponse;

describe('device authorization answers (RFC 8628 §3.2)', () => {
  it('keeps the codes, where to enter them, the lifetime and the poll interval', () => {
    expect(
      toDeviceAuthorization({
        ...ANSWER,
        verification_uri_complete: 'https://as.example/device?user_code=ABCD-EFGH',
        interval: 7,
      }),
    ).toEqual({
      deviceCode: 'dc',
      userCode: 'ABCD-EFGH',
      verificationUri: 'https://as.example/device',
      verificationUriComplete: 'https://as.example/device?user_code=ABCD-EFGH',
      expiresIn: 600,
      interval: 7,
    });
  });

  it('says null for a missing complete URI or interval (the poller then waits 5 s)', () => {
    expect(toDeviceAuthorization(ANSWER)).toMatchObject({
      verificationUriComplete: null,
      interval: null,
    });
  });
});
