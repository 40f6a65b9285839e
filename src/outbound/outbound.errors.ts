import { describeRange } from './address-policy.js';

/**
 * An outbound request Outlink refused to make or to accept the answer of. The message is written
 * by Outlink, names no secret and may be shown to an admin.
 */
export abstract class OutboundError extends Error {}

/** The policy refused the address a host name resolved to, or a literal address (SPEC §11). */
export class OutboundAddressRefused extends OutboundError {
  constructor(
    /** the host as the URL named it */
    readonly host: string,
    /** the ipaddr.js name of the refused range (`loopback`, `private`, ...) */
    readonly range: string,
    /** the host is an IP literal, not a name that resolved to the address */
    literal: boolean,
  ) {
    // The resolved address itself is left out: the range is what the admin needs, and the
    // answer of an internal DNS server is not for every admin key to read.
    super(
      `${host} ${literal ? 'is' : 'resolves to'} ${describeRange(range)}, which the outbound policy refuses (OUTBOUND_ALLOW can make an exception)`,
    );
    this.name = 'OutboundAddressRefused';
  }
}

/** A redirect (not followed) or an answer over the size cap. */
export class OutboundResponseRefused extends OutboundError {
  constructor(
    readonly reason: 'redirect' | 'too_large',
    /** the HTTP status of the refused answer */
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundResponseRefused';
  }
}
