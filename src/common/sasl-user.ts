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
