// The OUTBOUND_ALLOW format (SPEC §11), read with the rest of the configuration at boot; the
// policy that applies it lives in outbound/.
import ipaddr from 'ipaddr.js';

/**
 * The exceptions of `OUTBOUND_ALLOW` (SPEC §11), normalised: host names in lower case without a
 * trailing dot, CIDRs as `address/prefix` (a single address is a /32 or /128).
 */
export interface OutboundAllowList {
  hostNames: readonly string[];
  cidrs: readonly string[];
}

export const NOTHING_ALLOWED: OutboundAllowList = Object.freeze({ hostNames: [], cidrs: [] });

// RFC 1123 labels; `_` too, since internal names sometimes carry one.
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** IPv4 only in dotted-quad form: `127.1` or `0x7f.1` in the variable would surprise a reader. */
function isStrictAddress(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

/** Lower case, no trailing dot, no IPv6 brackets: how a URL's host is compared. */
export function normaliseHost(host: string): string {
  const lower = host.trim().toLowerCase().replace(/\.$/, '');
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/**
 * Parses `OUTBOUND_ALLOW`: comma-separated host names, IP addresses and CIDRs; empty entries are
 * ignored.
 *
 * @param text - the variable's value
 * @returns the allow list and one sentence per entry that is none of those
 */
export function parseOutboundAllow(text: string): {
  allow: OutboundAllowList;
  problems: string[];
} {
  const hostNames: string[] = [];
  const cidrs: string[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const entry = normaliseHost(raw);
    if (entry === '') continue;
    const [address, prefix, ...rest] = entry.split('/');
    if (isStrictAddress(address)) {
      const parsed = ipaddr.parse(address);
      const maxPrefix = parsed.kind() === 'ipv4' ? 32 : 128;
      const bits =
        prefix === undefined ? maxPrefix : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (rest.length > 0 || !(bits >= 0 && bits <= maxPrefix)) {
        problems.push(`"${raw.trim()}" has an invalid prefix length (0-${maxPrefix})`);
      } else {
        cidrs.push(`${parsed.toString()}/${bits}`);
      }
    } else if (prefix === undefined && HOST_NAME.test(entry) && !/^[\d.]+$/.test(entry)) {
      hostNames.push(entry);
    } else {
      problems.push(`"${raw.trim()}" is neither a host name nor an IP address or CIDR`);
    }
  }
  return { allow: { hostNames, cidrs }, problems };
}
