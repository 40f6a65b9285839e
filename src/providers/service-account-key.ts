import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { ClientKeyError, parseClientKey, signingKeyOf, type ClientKey } from './client-key.js';

/** What Outlink keeps of a service account key file (Google's JSON format). */
export interface ServiceAccountKey {
  /** The account the assertion is issued by (`iss`); the link's clientId defaults to it. */
  clientEmail: string | null;
  privateKey: ClientKey;
  /** Sent as the assertion's `kid`, so the provider picks the right public key. */
  privateKeyId: string | null;
  /** Where to send the assertion; the link's tokenEndpoint defaults to it. */
  tokenUri: string | null;
}

/** The longest lifetime Google accepts for an assertion is an hour; it is used at once. */
const ASSERTION_LIFETIME_SECONDS = 300;
const MAX_FIELD_LENGTH = 2000;

/**
 * Reads a service account key: the JSON key file as an object or as its text. Needs
 * `private_key` (PEM); `client_email`, `private_key_id` and `token_uri` are kept when present.
 * @throws ClientKeyError saying what is wrong (never quoting the key)
 */
export function parseServiceAccountKey(value: unknown): ServiceAccountKey {
  let file: unknown = value;
  if (typeof value === 'string') {
    try {
      file = JSON.parse(value);
    } catch {
      throw new ClientKeyError('serviceAccountKey must be the JSON key file, or its text');
    }
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file))
    throw new ClientKeyError('serviceAccountKey must be the JSON key file, or its text');
  const fields = file as Record<string, unknown>;
  const text = (name: string): string | null => {
    const field = fields[name];
    if (field === undefined || field === null) return null;
    if (typeof field !== 'string' || field.length === 0 || field.length > MAX_FIELD_LENGTH)
      throw new ClientKeyError(`serviceAccountKey.${name} must be a non-empty string`);
    return field;
  };
  if (typeof fields.private_key !== 'string')
    throw new ClientKeyError('serviceAccountKey has no private_key (PEM)');
  let privateKey: ClientKey;
  try {
    privateKey = parseClientKey(fields.private_key);
  } catch (error) {
    if (!(error instanceof ClientKeyError)) throw error;
    throw new ClientKeyError(error.message.replace('privateKey', 'serviceAccountKey.private_key'));
  }
  return {
    clientEmail: text('client_email'),
    privateKey,
    privateKeyId: text('private_key_id'),
    tokenUri: text('token_uri'),
  };
}

/** The stored form: the key file's fields Outlink uses, in Google's names. */
export function serializeServiceAccountKey(key: ServiceAccountKey): string {
  return JSON.stringify({
    client_email: key.clientEmail,
    private_key: key.privateKey.pkcs8Pem,
    private_key_id: key.privateKeyId,
    token_uri: key.tokenUri,
  });
}

/**
 * A fresh RFC 7523 §2.1 authorization grant assertion, shaped as Google documents it for
 * service accounts: `iss` the account, `sub` the user to act as (domain-wide delegation),
 * `aud` the token endpoint it is sent to, `scope` space-separated, valid five minutes.
 *
 * @param now - the issue time (injected clock)
 */
export async function signJwtBearerAssertion(
  key: ServiceAccountKey,
  claims: { issuer: string; subject: string | null; audience: string; scopes: string[] },
  now: Date,
): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  const jwt = new SignJWT(claims.scopes.length > 0 ? { scope: claims.scopes.join(' ') } : {})
    .setProtectedHeader({
      alg: key.privateKey.algorithm,
      typ: 'JWT',
      ...(key.privateKeyId !== null && { kid: key.privateKeyId }),
    })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ASSERTION_LIFETIME_SECONDS)
    .setJti(randomUUID());
  if (claims.subject !== null) jwt.setSubject(claims.subject);
  return jwt.sign(await signingKeyOf(key.privateKey));
}
