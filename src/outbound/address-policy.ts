import ipaddr from 'ipaddr.js';

import { normaliseHost, type OutboundAllowList } from '../config/outbound-allow.js';

export {
  NOTHING_ALLOWED,
  normaliseHost,
  type OutboundAllowList,
} from '../config/outbound-allow.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** Human names of the ranges ipaddr.js reports; others are named by their ipaddr.js name. */
const RANGE_DESCRIPTIONS: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private (RFC 1918) address',
  uniqueLocal: 'a unique-local address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
};

export function describeRange(range: string): string {
  return RANGE_DESCRIPTIONS[range] ?? `a non-public address (${range})`;
}

/** Only 2000::/3 is allocated for global unicast; ipaddr.js calls everything unnamed `unicast`. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function embeddedIPv4(parts: number[], index: number): ipaddr.IPv4 {
  const [high, low] = [parts[index], parts[index + 1]];
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * Why a public-only policy refuses `address`, or null when it is public. IPv4 must be plain
 * unicast; IPv6 must be global unicast, and the forms that carry an IPv4 address (mapped, NAT64,
 * 6to4) are judged by that address.
 */
function nonPublicRange(address: Address): string | null {
  if (address.kind() === 'ipv4') {
    const range = address.range();
    return range === 'unicast' ? null : range;
  }
  const v6 = address as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'ipv4Mapped') return nonPublicRange(v6.toIPv4Address());
  if (range === 'rfc6052' && v6.match(NAT64_WELL_KNOWN))
    return nonPublicRange(embeddedIPv4(v6.parts, 6));
  if (range === '6to4') return nonPublicRange(embeddedIPv4(v6.parts, 1));
  if (range === 'unicast') return v6.match(GLOBAL_UNICAST_V6) ? null : 'reserved';
  return range;
}

/** An IPv4-mapped IPv6 address is its IPv4 address, so `127.0.0.1/8` covers `::ffff:127.0.0.1`. */
function unmapped(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function inAllowedCidr(address: Address, allow: OutboundAllowList): boolean {
  return allow.cidrs.some((cidr) => {
    const [network, bits] = ipaddr.parseCIDR(cidr);
    return network.kind() === address.kind() && address.match(network, bits);
  });
}

/**
 * The outbound policy for one IP address (SPEC §11).
 *
 * @param address - an IPv4 or IPv6 address as text (an IPv6 zone id is ignored)
 * @param allow - the OUTBOUND_ALLOW exceptions
 * @returns null when Outlink may connect to it, else the ipaddr.js name of the refused range
 *   (`loopback`, `private`, ...; `invalid` for text that is no address)
 */
export function addressRefusal(address: string, allow: OutboundAllowList): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  const parsed = unmapped(ipaddr.parse(address));
  if (inAllowedCidr(parsed, allow)) return null;
  return nonPublicRange(parsed);
}

/**
 * Whether a host name is an OUTBOUND_ALLOW exception, which then holds whatever it resolves to.
 *
 * @param host - a URL's host name (brackets and a trailing dot are ignored, case-insensitive)
 */
export function isAllowedHostName(host: string, allow: OutboundAllowList): boolean {
  return allow.hostNames.includes(normaliseHost(host));
}
