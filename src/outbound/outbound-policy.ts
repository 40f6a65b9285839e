import { Injectable } from '@nestjs/common';
import { lookup as systemLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { AppConfig } from '../config/app-config.js';
import { addressRefusal, isAllowedHostName } from './address-policy.js';
import { normaliseHost, type OutboundAllowList } from '../config/outbound-allow.js';
import { OutboundAddressRefused } from './outbound.errors.js';

/** `dns.lookup` with `all: true`, injectable so that tests can make names resolve anywhere. */
export type ResolveAll = (
  hostname: string,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

const resolveWithSystem: ResolveAll = (hostname, callback) =>
  systemLookup(hostname, { all: true }, callback);

function refusalOf(
  host: string,
  addresses: readonly string[],
  allow: OutboundAllowList,
): OutboundAddressRefused | null {
  const literal = isIP(host) !== 0;
  if (!literal && isAllowedHostName(host, allow)) return null;
  for (const address of addresses) {
    const range = addressRefusal(address, allow);
    if (range !== null) return new OutboundAddressRefused(host, range, literal);
  }
  return null;
}

/**
 * Resolves a host and checks every address against the outbound policy (SPEC §11): a literal
 * address is checked as it is; a host name in OUTBOUND_ALLOW is allowed whatever it resolves to;
 * any other name is refused if any of its addresses is not allowed.
 *
 * @param host - a URL's host name or IP address (IPv6 with or without brackets)
 * @returns the checked addresses; connect to one of these, not to the name, or a second lookup
 *   may answer differently (DNS rebinding)
 * @throws OutboundAddressRefused; the resolver's error when the name does not resolve
 */
export function checkOutboundAddress(
  host: string,
  allow: OutboundAllowList,
  resolve: ResolveAll = resolveWithSystem,
): Promise<string[]> {
  const name = normaliseHost(host);
  return new Promise((done, fail) => {
    const finish = (addresses: string[]): void => {
      const refusal = refusalOf(name, addresses, allow);
      if (refusal) fail(refusal);
      else done(addresses);
    };
    if (isIP(name) !== 0) finish([name]);
    else
      resolve(name, (error, addresses) =>
        error ? fail(error) : finish(addresses.map((entry) => entry.address)),
      );
  });
}

/**
 * A `lookup` for `net.connect`/`tls.connect` that refuses, before any packet is sent, a name
 * resolving to an address outside the policy. Node skips `lookup` for IP literals: whoever
 * connects checks those with {@link checkOutboundAddress} first.
 */
export function policyLookup(
  allow: OutboundAllowList,
  resolve: ResolveAll = resolveWithSystem,
): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (error, found) => {
      if (error) return callback(error, []);
      const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
      const addresses = wanted === 0 ? found : found.filter((entry) => entry.family === wanted);
      const refusal = refusalOf(
        normaliseHost(hostname),
        found.map((entry) => entry.address),
        allow,
      );
      if (refusal) return callback(refusal, []);
      if (addresses.length === 0) {
        const notFound: NodeJS.ErrnoException = new Error(`no address for ${hostname}`);
        notFound.code = 'ENOTFOUND';
        return callback(notFound, []);
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** The outbound policy with this process's OUTBOUND_ALLOW, for everything that connects out. */
@Injectable()
export class OutboundPolicy {
  readonly allow: OutboundAllowList;
  readonly lookup: LookupFunction;

  constructor(config: AppConfig) {
    this.allow = config.outboundAllow;
    this.lookup = policyLookup(this.allow);
  }

  /** {@link checkOutboundAddress} with this process's exceptions: for raw TCP clients (mail). */
  checkOutboundAddress(host: string): Promise<string[]> {
    return checkOutboundAddress(host, this.allow);
  }

  /**
   * Why Outlink would refuse to connect to `url` now, for checking an endpoint when it is saved.
   * A name that does not resolve now is not refused here: the connect-time check decides once it
   * does.
   *
   * @returns the refusal, or null
   */
  async refusalFor(url: URL): Promise<OutboundAddressRefused | null> {
    try {
      await this.checkOutboundAddress(url.hostname);
      return null;
    } catch (error) {
      if (error instanceof OutboundAddressRefused) return error;
      return null;
    }
  }
}
