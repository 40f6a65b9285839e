// The rule for `user` moved to common/ (links/ validates mail.user with it too).
export { isSaslUser, MAX_SASL_USER_LENGTH } from '../common/sasl-user.js';

/**
 * The SASL XOAUTH2 initial response that Gmail and Exchange Online expect for IMAP
 * `AUTHENTICATE XOAUTH2` and SMTP `AUTH XOAUTH2`: base64 of
 * `user={user}\x01auth=Bearer {token}\x01\x01`.
 */
export function xoauth2(user: string, accessToken: string): string {
  return Buffer.from(`user=${user}\x01auth=Bearer ${accessToken}\x01\x01`, 'utf8').toString(
    'base64',
  );
}

/** RFC 5801 gs2 saslname: `=` and `,` would end the authzid, so they travel as =3D and =2C. */
function gs2SaslName(user: string): string {
  return user.includes('=') || user.includes(',')
    ? user.replaceAll('=', '=3D').replaceAll(',', '=2C')
    : user;
}

/**
 * The SASL OAUTHBEARER initial client response (RFC 7628) for IMAP `AUTHENTICATE OAUTHBEARER`
 * and SMTP `AUTH OAUTHBEARER`: base64 of `n,a={user},\x01auth=Bearer {token}\x01\x01`. The
 * optional host and port pairs are left out: the consumer, not Outlink, picks the mail server.
 */
export function oauthbearer(user: string, accessToken: string): string {
  return Buffer.from(
    `n,a=${gs2SaslName(user)},\x01auth=Bearer ${accessToken}\x01\x01`,
    'utf8',
  ).toString('base64');
}
