import ipaddr from 'ipaddr.js';

/** TRUST_PROXY as configured: all proxies, a hop count, or the trusted proxies' addresses. */
export type TrustProxy = boolean | number | string[];

/** What Fastify 5's `trustProxy` option takes. */
export type FastifyTrustProxy = boolean | string[] | ((address: string, hop: number) => boolean);

/** The names Fastify (@fastify/proxy-addr) expands into address ranges. */
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const MAX_HOPS = 255;

/**
 * Parses TRUST_PROXY (SPEC §11): `true`, `false`, a hop count, or comma-separated addresses,
 * CIDRs and the names loopback, linklocal and uniquelocal. Checked here, at boot, because
 * Fastify would only fail (or silently trust nothing) on the first request.
 */
export function parseTrustProxy(value: string | undefined): {
  trustProxy: TrustProxy;
  problems: string[];
} {
  const text = value?.trim() ?? '';
  if (text === '' || /^false$/i.test(text)) return { trustProxy: false, problems: [] };
  if (/^true$/i.test(text)) return { trustProxy: true, problems: [] };
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops <= MAX_HOPS
      ? { trustProxy: hops, problems: [] }
      : { trustProxy: false, problems: [`a hop count must be at most ${MAX_HOPS}`] };
  }
  const entries = text.split(',').map((entry) => entry.trim());
  const invalid = entries.filter(
    (entry) => !NAMED_RANGES.has(entry) && !ipaddr.isValid(entry) && !ipaddr.isValidCIDR(entry),
  );
  if (invalid.length === 0) return { trustProxy: entries, problems: [] };
  return {
    trustProxy: false,
    problems: [
      `must be true, false, a hop count, or comma-separated addresses, CIDRs, loopback, ` +
        `linklocal or uniquelocal; not ${invalid.map((entry) => JSON.stringify(entry)).join(', ')}`,
    ],
  };
}

/**
 * The option for Fastify. Fastify 5.12 no longer takes a hop count (a number now trusts nothing,
 * silently), so a count becomes the function proxy-addr used for it: trust the nearest `hops`
 * peers, whatever their address. Like `true`, that is sound only when clients cannot reach
 * Outlink except through those proxies; addresses or CIDRs are the safer setting.
 */
export function fastifyTrustProxy(trustProxy: TrustProxy): FastifyTrustProxy {
  if (typeof trustProxy !== 'number') return trustProxy;
  const hops = trustProxy;
  return (_address, hop) => hop < hops;
}
