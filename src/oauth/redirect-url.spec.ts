import { describe, expect, it } from '@jest/globals';
import { redirectUrlWarnings } from './redirect-url.js';

const CALLBACK = '/v1/oauth/callback';

describe('redirectUrlWarnings', () => {
  it.each([
    'https://outlink.example.com/v1/oauth/callback',
    'https://outlink.example.com:8443/v1/oauth/callback',
    'https://203.0.113.10/v1/oauth/callback',
    'https://[2001:db8::1]/v1/oauth/callback',
    'https://outlink.example.com./v1/oauth/callback',
  ])('has nothing to say about %s', (url) => {
    expect(redirectUrlWarnings(url)).toEqual([]);
  });

  it('warns about the default http://localhost URL, but not about http on localhost', () => {
    const warnings = redirectUrlWarnings(`http://localhost:3000${CALLBACK}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/localhost/);
    expect(warnings[0]).toMatch(/Microsoft/);
    expect(warnings[0]).toMatch(/Google/);
    expect(warnings[0]).toMatch(/PUBLIC_BASE_URL/);
    expect(redirectUrlWarnings(`https://localhost${CALLBACK}`)).toHaveLength(1);
    expect(redirectUrlWarnings(`http://outlink.localhost${CALLBACK}`)).toHaveLength(1);
  });

  it('warns about plain http on a public host', () => {
    const warnings = redirectUrlWarnings(`http://outlink.example.com${CALLBACK}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/http:\/\//);
    expect(warnings[0]).toMatch(/Google and Microsoft/);
    expect(warnings[0]).toMatch(/https/);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.10.0.1', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.10', 'private'],
    ['100.64.0.1', 'private'],
    ['[fd12:3456:789a::1]', 'private'],
    ['[::ffff:10.1.2.3]', 'private'],
    ['169.254.169.254', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
  ])('warns that Google refuses the IP literal %s (%s)', (host, kind) => {
    const warnings = redirectUrlWarnings(`https://${host}${CALLBACK}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${kind} IP address`);
    expect(warnings[0]).toMatch(/Google refuses/);
  });

  it('normalises IP literals the way browsers do before judging them', () => {
    // 0x0a.1.2.3 and 167838211 are both 10.1.2.3 to a URL parser.
    expect(redirectUrlWarnings(`https://0x0a.1.2.3${CALLBACK}`)[0]).toContain('10.1.2.3');
    expect(redirectUrlWarnings(`https://167838211${CALLBACK}`)[0]).toContain('private');
  });

  it('does not take public addresses near private ranges for private ones', () => {
    for (const host of ['172.32.0.1', '11.0.0.1', '192.169.0.1', '100.128.0.1']) {
      expect(redirectUrlWarnings(`https://${host}${CALLBACK}`)).toEqual([]);
    }
  });

  it('warns about a private IP over http twice: the address and the scheme', () => {
    const warnings = redirectUrlWarnings(`http://10.1.2.3:3000${CALLBACK}`);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/10\.1\.2\.3 is a private IP address/);
    expect(warnings[1]).toMatch(/plain http:\/\//);
  });

  it.each(['outlink.local', 'outlink.internal', 'mail.corp.lan', 'outlink.home.arpa', 'outlink'])(
    'warns that %s is not a public name',
    (host) => {
      const warnings = redirectUrlWarnings(`https://${host}${CALLBACK}`);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(host);
      expect(warnings[0]).toMatch(/public/);
    },
  );

  it('does not mistake names that merely contain a private suffix', () => {
    expect(redirectUrlWarnings(`https://local.example.com${CALLBACK}`)).toEqual([]);
    expect(redirectUrlWarnings(`https://outlink.internal.example.com${CALLBACK}`)).toEqual([]);
  });

  it('says so when the URL is not a usable http(s) URL', () => {
    expect(redirectUrlWarnings('not a url')[0]).toMatch(/not an absolute URL/);
    expect(redirectUrlWarnings(`ftp://outlink.example.com${CALLBACK}`)[0]).toMatch(/ftp:/);
  });
});
