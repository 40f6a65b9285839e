import { describe, expect, it } from '@jest/globals';
import { configuredServers, mailSettingsErrors } from './link-mail-settings.js';

const server = (security: 'tls' | 'starttls' | 'none') => ({
  host: 'mail.example.com',
  port: 993,
  security,
});

describe('mail settings', () => {
  it('lists configured servers in protocol order', () => {
    expect(
      configuredServers({ smtp: server('tls'), imap: server('tls') }).map((s) => s.protocol),
    ).toEqual(['imap', 'smtp']);
    expect(configuredServers(null)).toEqual([]);
  });

  it('refuses security none unless insecure endpoints are allowed', () => {
    const mail = { imap: server('none'), smtp: server('starttls') };
    expect(mailSettingsErrors(mail, false)).toEqual([
      { field: 'mail.imap.security', message: expect.stringContaining('ALLOW_INSECURE_ENDPOINTS') },
    ]);
    expect(mailSettingsErrors(mail, true)).toEqual([]);
  });
});
