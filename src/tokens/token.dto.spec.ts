import { describe, expect, it } from '@jest/globals';
import 'reflect-metadata';
import { StrictValidationPipe } from '../common/validation.js';
import { TokenQueryDto } from './token.dto.js';

const pipe = new StrictValidationPipe();
/** The query as Fastify hands it over (strings, or arrays for repeated parameters). */
const userRefused = async (user: unknown): Promise<boolean> => {
  try {
    await pipe.transform({ user }, { type: 'query', metatype: TokenQueryDto });
    return false;
  } catch (error) {
    const fields = ((error as { errors?: { field: string }[] }).errors ?? []).map((e) => e.field);
    expect([...new Set(fields)]).toEqual(['user']);
    return true;
  }
};

describe('TokenQueryDto user (SPEC §11)', () => {
  it('takes plain mail logins and any address without whitespace or control characters', async () => {
    for (const user of [
      'support',
      'alice@example.com',
      'DOMAIN\\alice',
      'a,b=c@example.com',
      'jörg@exämple.de',
      'x'.repeat(320),
    ]) {
      expect({ user, refused: await userRefused(user) }).toEqual({ user, refused: false });
    }
  });

  // Regression: @IsEmail accepted quoted local parts with SOH and CRLF, which end a SASL field
  // (XOAUTH2 separates with \x01) or inject an IMAP/SMTP command line.
  it('refuses control characters, whitespace, empty and over-long values', async () => {
    for (const user of [
      '"a\x01b"@example.com',
      '"a\r\nb"@example.com',
      'a\x01b',
      'a\nb',
      'a\x7fb',
      'a\u0085b',
      'a b',
      'a\tb',
      'a\u00a0b',
      'a\u2028b',
      'a\u3000b',
      '',
      'x'.repeat(321),
      ['a', 'b'],
    ]) {
      expect({ user, refused: await userRefused(user) }).toEqual({ user, refused: true });
    }
  });
});
