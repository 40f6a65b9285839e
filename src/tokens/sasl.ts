/** The longest `user` accepted (SPEC §11): an e-mail address's maximum, plenty for a login. */
export const MAX_SASL_USER_LENGTH = 320;

/**
 * SPEC §11: a mailbox user is 1..320 characters without whitespace or control characters. It need
 * not be an e-mail address (plain logins exist), but it is embedded in SASL messages where \x01
 * ends a field and CR LF ends an IMAP or SMTP command line, so those can never pass.
 * One scan of the characters: this runs on the hot path of every token request that names a user.
 */
export function isSaslUser(user: string): boolean {
  if (user.length === 0 || user.length > MAX_SASL_USER_LENGTH) return false;
  for (let i = 0; i < user.length; i++) {
    const code = user.charCodeAt(i);
    // C0 controls and space, DEL, C1 controls and no-break space.
    if (code <= 0x20 || (code >= 0x7f && code <= 0xa0)) return false;
    // The rest of Unicode's whitespace (what \s matches), line and paragraph separators included.
    if (
      code >= 0x1680 &&
      (code === 0x1680 ||
        (code >= 0x2000 && code <= 0x200a) ||
        code === 0x2028 ||
        code === 0x2029 ||
        code === 0x202f ||
        code === 0x205f ||
        code === 0x3000 ||
        code === 0xfeff)
    )
      return false;
  }
  return true;
}

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
