import { BlockList, isIP } from 'node:net';

type AddressKind = 'loopback' | 'private' | 'link-local' | 'unspecified';

function blockList(subnets: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList();
  for (const [network, prefix, family] of subnets) list.addSubnet(network, prefix, family);
  return list;
}

// BlockList also matches IPv4-mapped IPv6 literals (::ffff:10.0.0.1) against the IPv4 subnets.
const ADDRESS_KINDS: [AddressKind, BlockList][] = [
  [
    'loopback',
    blockList([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
  [
    'private',
    blockList([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'], // carrier-grade NAT (RFC 6598)
      ['fc00::', 7, 'ipv6'], // unique local addresses
    ]),
  ],
  [
    'link-local',
    blockList([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'unspecified',
    blockList([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  ],
];

const ADDRESS_KIND_NAMES: Record<AddressKind, string> = {
  loopback: 'a loopback IP address',
  private: 'a private IP address',
  'link-local': 'a link-local IP address',
  unspecified: 'an unspecified IP address',
};

/** Name suffixes that only resolve inside a network (mDNS, cloud-internal and home DNS). */
const NON_PUBLIC_SUFFIXES = ['.local', '.internal', '.lan', '.localdomain', '.home.arpa'];

function addressKind(address: string): AddressKind | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return ADDRESS_KINDS.find(([, list]) => list.check(address, type))?.[0];
}

/**
 * What OAuth providers will refuse about a redirect URL (SPEC §4): a `localhost` host, a
 * private, loopback or link-local IP literal, plain http, or a name that only resolves inside a
 * network. Each warning is one sentence that says how to fix it.
 * @returns an empty list when Google and Microsoft should both accept the URL.
 */
export function redirectUrlWarnings(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [
      `The redirect URL "${url}" is not an absolute URL; set PUBLIC_BASE_URL to the public https:// URL of Outlink.`,
    ];
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return [
      `The redirect URL uses ${parsed.protocol}, not https:; set PUBLIC_BASE_URL to the public https:// URL of Outlink.`,
    ];
  }

  const warnings: string[] = [];
  // URL keeps the brackets of an IPv6 literal and lower-cases names.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const isLocalhost = host === 'localhost' || host.endsWith('.localhost');
  const kind = addressKind(host);

  if (isLocalhost) {
    warnings.push(
      'The redirect URL points to localhost, which only works from the browser on this machine: ' +
        'Microsoft accepts http://localhost only for testing and Google only for some client ' +
        'types; set PUBLIC_BASE_URL to the public URL of Outlink.',
    );
  } else if (kind !== undefined) {
    warnings.push(
      `The redirect URL's host ${host} is ${ADDRESS_KIND_NAMES[kind]}, which Google refuses as a ` +
        'redirect URI and browsers elsewhere cannot reach; set PUBLIC_BASE_URL to a public ' +
        'host name of Outlink.',
    );
  } else if (isIP(host) === 0) {
    const suffix = NON_PUBLIC_SUFFIXES.find((candidate) => host.endsWith(candidate));
    if (suffix !== undefined) {
      warnings.push(
        `The redirect URL's host ${host} ends in ${suffix}, a name that resolves only inside ` +
          'a private network and that Google refuses (it needs a public top-level domain); set ' +
          'PUBLIC_BASE_URL to a public host name of Outlink.',
      );
    } else if (!host.includes('.')) {
      warnings.push(
        `The redirect URL's host ${host} has no domain, so it resolves only inside a private ` +
          'network and Google refuses it (it needs a public top-level domain); set ' +
          'PUBLIC_BASE_URL to a public host name of Outlink.',
      );
    }
  }

  if (parsed.protocol === 'http:' && !isLocalhost) {
    warnings.push(
      'The redirect URL uses plain http://, which Google and Microsoft refuse except for ' +
        'localhost; serve Outlink over https and set PUBLIC_BASE_URL to its https:// URL.',
    );
  }
  return warnings;
}
