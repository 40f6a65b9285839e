import { describe, expect, it } from '@jest/globals';
import type { FieldError } from '../common/app-error.js';
import { parseTokenQuery, parseTokenRequest, type TokenQuery } from './token-query.js';

/** The query as Fastify hands it over: strings, or arrays for repeated parameters. */
const parsed = (query: Record<string, unknown>): TokenQuery | FieldError[] => {
  try {
    return parseTokenQuery(query);
  } catch (error) {
    expect((error as { code?: string }).code).toBe('validation_failed');
    return (error as { errors: FieldError[] }).errors;
  }
};

const USER_MESSAGE = 'user must be 1-320 characters without whitespace or control characters';
const NOT_INTEGER = { field: 'minValidity', message: 'minValidity must be an integer number' };
const BELOW_ZERO = { field: 'minValidity', message: 'minValidity must not be less than 0' };
const ABOVE_MAX = { field: 'minValidity', message: 'minValidity must not be greater than 3600' };

describe('parseTokenQuery minValidity', () => {
  it('defaults to 60 and reads numbers as the validation pipe did (Number())', () => {
    expect(parsed({})).toEqual({ minValidity: 60 });
    for (const [text, seconds] of [
      ['0', 0],
      ['3600', 3600],
      ['', 0],
      [' 5 ', 5],
      ['1e3', 1000],
      ['0x10', 16],
      ['5.0', 5],
      ['-0', 0],
    ] as const) {
      expect({ text, result: parsed({ minValidity: text }) }).toEqual({
        text,
        result: { minValidity: seconds },
      });
    }
  });

  it('refuses what is not an integer within 0..3600, with every message the pipe gave', () => {
    expect(parsed({ minValidity: '5.5' })).toEqual([NOT_INTEGER]);
    expect(parsed({ minValidity: '-1' })).toEqual([BELOW_ZERO]);
    expect(parsed({ minValidity: '3601' })).toEqual([ABOVE_MAX]);
    expect(parsed({ minValidity: 'Infinity' })).toEqual([ABOVE_MAX, NOT_INTEGER]);
    for (const value of ['abc', ['1', '2'], ['7']]) {
      expect(parsed({ minValidity: value })).toEqual([ABOVE_MAX, BELOW_ZERO, NOT_INTEGER]);
    }
  });
});

describe('parseTokenQuery user (SPEC §11)', () => {
  it('takes plain mail logins and any address without whitespace or control characters', () => {
    for (const user of [
      'support',
      'alice@example.com',
      'DOMAIN\\alice',
      'a,b=c@example.com',
      'jörg@exämple.de',
      'x'.repeat(320),
    ]) {
      expect({ user, result: parsed({ user }) }).toEqual({
        user,
        result: { minValidity: 60, user },
      });
    }
  });

  // Regression: @IsEmail accepted quoted local parts with SOH and CRLF, which end a SASL field
  // (XOAUTH2 separates with \x01) or inject an IMAP/SMTP command line.
  it('refuses control characters, whitespace, empty and over-long values', () => {
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
    ]) {
      expect({ user, result: parsed({ user }) }).toEqual({
        user,
        result: [{ field: 'user', message: USER_MESSAGE }],
      });
    }
    expect(parsed({ user: ['a', 'b'] })).toEqual([
      { field: 'user', message: USER_MESSAGE },
      { field: 'user', message: 'user must be a string' },
    ]);
  });
});

describe('parseTokenQuery, the rest of the query', () => {
  it('refuses unknown parameters, listed before the known ones as the pipe did', () => {
    expect(parsed({ foo: '1' })).toEqual([{ field: 'foo', message: 'is not a known field' }]);
    expect(parsed({ minValidity: 'x', user: '', foo: '1' })).toEqual([
      { field: 'foo', message: 'is not a known field' },
      ABOVE_MAX,
      BELOW_ZERO,
      NOT_INTEGER,
      { field: 'user', message: USER_MESSAGE },
    ]);
    expect(parsed({ user: 'x', minValidity: '10', bar: '', baz: '' })).toEqual([
      { field: 'bar', message: 'is not a known field' },
      { field: 'baz', message: 'is not a known field' },
    ]);
  });

  it('names NUL characters and prototype keys first, as the pipe did', () => {
    expect(parsed({ user: 'a\u0000b' })).toEqual([
      { field: 'user', message: 'must not contain NUL (U+0000) characters' },
    ]);
    const polluted = JSON.parse('{"constructor": "x", "minValidity": "5"}') as Record<
      string,
      unknown
    >;
    expect(parsed(polluted)).toEqual([{ field: 'constructor', message: 'is not a known field' }]);
  });
});

describe('parseTokenRequest (the path parameter, read without a pipe)', () => {
  const query = { minValidity: '30' };
  const refusal = (request: { params: unknown; query: unknown }): FieldError[] => {
    try {
      parseTokenRequest(request);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('validation_failed');
      return (error as { errors: FieldError[] }).errors;
    }
    throw new Error('accepted');
  };

  it('takes what ParseUUIDPipe takes: versions 1-8 in either case, the nil and the max UUID', () => {
    for (const id of [
      '6b1f3c1e-0000-4000-8000-000000000000',
      'C232AB00-9414-11EC-B3C8-9F6BDECED846',
      '017f22e2-79b0-7cc3-98c4-dc0c0c07398f',
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ]) {
      expect(parseTokenRequest({ params: { id }, query })).toEqual({
        linkId: id,
        query: { minValidity: 30 },
      });
    }
  });

  it('refuses anything else with the 400 UuidParam gives, and a bad query first', () => {
    const notAUuid = [{ field: 'id', message: 'id must be a UUID' }];
    for (const id of [
      'x',
      '6b1f3c1e-0000-4000-c000-000000000000',
      ' 6b1f3c1e-0000-4000-8000-000000000000',
      undefined,
    ])
      expect(refusal({ params: { id }, query })).toEqual(notAUuid);
    expect(refusal({ params: { id: 'x' }, query: { foo: '1' } })).toEqual([
      { field: 'foo', message: 'is not a known field' },
    ]);
  });
});
