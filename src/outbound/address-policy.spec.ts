import { describe, expect, it } from '@jest/globals';
import { addressRefusal, isAllowedHostName } from './address-policy.js';
import {
  NOTHING_ALLOWED,
  parseOutboundAllow,
  type OutboundAllowList,
} from '../config/outbound-allow.js';

describe('addressRefusal without exceptions', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.255', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.10', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['::7f00:1', 'reserved'], // IPv4-compatible, deprecated
    ['64:ff9b::7f00:1', 'loopback'], // NAT64 of 127.0.0.1
    ['64:ff9b::a9fe:a9fe', 'linkLocal'], // NAT64 of 169.254.169.254
    ['64:ff9b:1::1', 'rfc6052'], // local-use NAT64 prefix
    ['2002:7f00:1::1', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:a00:1::1', 'private'], // 6to4 of 10.0.0.1
    ['2001::1', 'teredo'],
    ['2001:db8::1', 'reserved'],
    ['100::1', 'discard'],
    ['4000::1', 'reserved'], // outside 2000::/3
    ['not an address', 'invalid'],
    ['', 'invalid'],
  ])('refuses %s (%s)', (address, range) => {
    expect(addressRefusal(address, NOTHING_ALLOWED)).toBe(range);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.215.14',
    '172.32.0.1', // just outside 172.16.0.0/12
    '100.128.0.1', // just outside 100.64.0.0/10
    '169.255.0.1',
    '2606:4700::6810:84e5',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808', // NAT64 of 8.8.8.8
    '2002:808:808::1', // 6to4 of 8.8.8.8
  ])('allows the public address %s', (address) => {
    expect(addressRefusal(address, NOTHING_ALLOWED)).toBeNull();
  });
});

describe('addressRefusal with OUTBOUND_ALLOW exceptions', () => {
  const allow = (text: string): OutboundAllowList => {
    const { allow: parsed, problems } = parseOutboundAllow(text);
    expect(problems).toEqual([]);
    return parsed;
  };

  it.each([
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '::ffff:127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['10.0.0.0/8', '10.200.3.4', true],
    ['10.0.0.0/8', '11.0.0.1', true], // public anyway
    ['10.0.0.0/8', '172.16.0.1', false],
    ['10.1.2.3/16', '10.1.200.1', true], // host bits in the entry do not matter
    ['fd00::/8', 'fd00::5', true],
    ['fd00::/8', 'fc00::5', false],
    ['::1', '::1', true],
    ['::1', '127.0.0.1', false],
    ['0.0.0.0/0', '169.254.169.254', true],
    ['localhost', '127.0.0.1', false], // a host name exempts a name, not its addresses
  ])('OUTBOUND_ALLOW=%s, %s allowed: %s', (exceptions, address, allowed) => {
    expect(addressRefusal(address, allow(exceptions)) === null).toBe(allowed);
  });

  it('exempts host names exactly, case-insensitively, with or without a trailing dot', () => {
    const exceptions = allow('idp.internal, Auth.Example.COM.');
    expect(isAllowedHostName('idp.internal', exceptions)).toBe(true);
    expect(isAllowedHostName('IDP.internal.', exceptions)).toBe(true);
    expect(isAllowedHostName('auth.example.com', exceptions)).toBe(true);
    expect(isAllowedHostName('sub.idp.internal', exceptions)).toBe(false);
    expect(isAllowedHostName('idp.internal.evil.com', exceptions)).toBe(false);
    expect(isAllowedHostName('localhost', exceptions)).toBe(false);
  });
});

describe('parseOutboundAllow', () => {
  it('normalises host names, addresses and CIDRs, and ignores empty entries', () => {
    expect(parseOutboundAllow(' Localhost., 127.0.0.1 ,,10.0.0.0/8, [::1], fd00::/8,')).toEqual({
      allow: {
        hostNames: ['localhost'],
        cidrs: ['127.0.0.1/32', '10.0.0.0/8', '::1/128', 'fd00::/8'],
      },
      problems: [],
    });
    expect(parseOutboundAllow('')).toEqual({ allow: NOTHING_ALLOWED, problems: [] });
  });

  it('lists every entry that is not a host name, address or CIDR', () => {
    const { problems } = parseOutboundAllow(
      'ok.example, 10.0.0.0/33, ::1/129, 10.0.0.0/8/1, 127.1, http://x, a b, -bad.example, 1.2.3',
    );
    expect(problems).toEqual([
      '"10.0.0.0/33" has an invalid prefix length (0-32)',
      '"::1/129" has an invalid prefix length (0-128)',
      '"10.0.0.0/8/1" has an invalid prefix length (0-32)',
      '"127.1" is neither a host name nor an IP address or CIDR',
      '"http://x" is neither a host name nor an IP address or CIDR',
      '"a b" is neither a host name nor an IP address or CIDR',
      '"-bad.example" is neither a host name nor an IP address or CIDR',
      '"1.2.3" is neither a host name nor an IP address or CIDR',
    ]);
  });
});
