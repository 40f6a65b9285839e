// @peculiar/x509 registers its classes with tsyringe, which needs the metadata polyfill first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { exportJWK, importPKCS8, type JWK } from 'jose';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  type KeyObject,
  type webcrypto,
} from 'node:crypto';

/** JWS algorithms Outlink signs client assertions with, by key type. */
export type ClientKeyAlgorithm = 'RS256' | 'ES256' | 'ES384';

/** A private key as Outlink stores it: PKCS#8 PEM, with the algorithm it signs with. */
export interface ClientKey {
  pkcs8Pem: string;
  algorithm: ClientKeyAlgorithm;
}

/** What an admin registers at the provider (SPEC §15): never the private key. */
export interface CertificateView {
  pem: string;
  /** The public key as a JWK, with `kid`, `alg`, `use`, `x5c` and `x5t#S256`. */
  jwk: JWK;
  /** base64url SHA-256 of the certificate's DER (`x5t#S256`), which Entra shows as thumbprint. */
  x5tS256: string;
}

/** An uploaded key Outlink cannot use; the message is safe to show (it never quotes the key). */
export class ClientKeyError extends Error {}

/** Generated certificates are valid this long; a new key (PATCH) makes a new one. */
export const CERTIFICATE_VALIDITY_DAYS = 730;
const MIN_RSA_BITS = 2048;
const WEB_CRYPTO_ALGORITHMS: Record<
  ClientKeyAlgorithm,
  webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams
> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
};
const SIGNING_HASHES: Record<ClientKeyAlgorithm, string> = {
  RS256: 'SHA-256',
  ES256: 'SHA-256',
  ES384: 'SHA-384',
};

x509.cryptoProvider.set(globalThis.crypto);

/**
 * Reads an uploaded private key: PEM in PKCS#8, PKCS#1 (`RSA PRIVATE KEY`) or SEC1
 * (`EC PRIVATE KEY`), unencrypted; RSA of at least 2048 bits, or EC P-256 / P-384.
 * @throws ClientKeyError saying what is wrong with it
 */
export function parseClientKey(pem: string): ClientKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new ClientKeyError(
      'privateKey must be an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)',
    );
  }
  return { pkcs8Pem: toPkcs8(key), algorithm: algorithmOf(key) };
}

/**
 * A new key for a link that was given none: RSA 2048, because Microsoft Entra accepts only RSA
 * certificates as application credentials and 2048 bits is the size RS256 requires (RFC 7518).
 */
export function generateClientKey(): ClientKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: MIN_RSA_BITS });
  return { pkcs8Pem: toPkcs8(privateKey), algorithm: 'RS256' };
}

/**
 * A self-signed certificate for the key, to upload at the provider (Entra takes certificates,
 * not bare keys). Stored beside the key so its thumbprint stays what the admin registered.
 *
 * @param subject - the certificate's common name
 * @param now - the start of its validity (injected clock)
 */
export async function selfSignedCertificate(
  key: ClientKey,
  subject: string,
  now: Date,
): Promise<string> {
  const algorithm = WEB_CRYPTO_ALGORITHMS[key.algorithm];
  const privateObject = createPrivateKey(key.pkcs8Pem);
  const spki = createPublicKey(privateObject).export({ type: 'spki', format: 'der' });
  const pkcs8 = privateObject.export({ type: 'pkcs8', format: 'der' });
  const keys = {
    privateKey: await crypto.subtle.importKey('pkcs8', pkcs8, algorithm, false, ['sign']),
    publicKey: await crypto.subtle.importKey('spki', spki, algorithm, true, ['verify']),
  };
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A positive serial: the first bit cleared (RFC 5280 §4.1.2.2).
    serialNumber: '01' + randomBytes(15).toString('hex'),
    name: `CN=${subject.replace(/[,+="\\<>;#]/g, ' ')}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + CERTIFICATE_VALIDITY_DAYS * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: { ...algorithm, hash: SIGNING_HASHES[key.algorithm] },
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return certificate.toString('pem');
}

/** The certificate, its public key as a JWK and its `x5t#S256` thumbprint. */
export async function describeCertificate(pem: string): Promise<CertificateView> {
  const certificate = new X509Certificate(pem);
  const der = certificate.raw;
  const x5tS256 = createHash('sha256').update(der).digest('base64url');
  const publicKey = certificate.publicKey;
  return {
    pem: certificate.toString(),
    jwk: {
      ...(await exportJWK(publicKey)),
      kid: x5tS256,
      use: 'sig',
      alg: algorithmOf(publicKey),
      x5c: [der.toString('base64')],
      'x5t#S256': x5tS256,
    },
    x5tS256,
  };
}

/** `x5t#S256` of a PEM certificate: the `kid` and `x5t#S256` of Outlink's client assertions. */
export function certificateThumbprint(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return createHash('sha256').update(der).digest('base64url');
}

/** The key as WebCrypto needs it for signing (openid-client and jose take CryptoKeys). */
export async function signingKeyOf(key: ClientKey): Promise<webcrypto.CryptoKey> {
  return importPKCS8(key.pkcs8Pem, key.algorithm);
}

function toPkcs8(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function algorithmOf(key: KeyObject): ClientKeyAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    if ((details?.modulusLength ?? 0) < MIN_RSA_BITS)
      throw new ClientKeyError(`an RSA privateKey must have at least ${MIN_RSA_BITS} bits`);
    return 'RS256';
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return 'ES256';
    if (details?.namedCurve === 'secp384r1') return 'ES384';
  }
  throw new ClientKeyError('privateKey must be an RSA (2048 bits or more) or EC P-256/P-384 key');
}
