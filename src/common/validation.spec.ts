import { describe, expect, it } from '@jest/globals';
import { forbiddenContent } from './validation.js';

describe('forbiddenContent', () => {
  it('finds nothing in ordinary values', () => {
    expect(forbiddenContent({ name: 'a', scopes: ['b'], params: { prompt: 'consent' } })).toEqual(
      [],
    );
  });

  it('names prototype keys at any depth (Nest stripped them silently, so they were accepted)', () => {
    const value = JSON.parse(
      '{"constructor":{"a":1},"nested":{"prototype":1},"list":[{"__proto__":{}}]}',
    ) as unknown;
    expect(forbiddenContent(value).map((error) => error.field)).toEqual(
      expect.arrayContaining(['constructor', 'nested.prototype', 'list[0].__proto__']),
    );
  });

  it('names strings and keys holding U+0000, which PostgreSQL cannot store (was a 500)', () => {
    expect(forbiddenContent({ name: 'a\u0000b', params: { 'k\u0000': 'v' } })).toEqual([
      { field: 'params.k\u0000', message: 'is not a known field' },
      { field: 'name', message: 'must not contain NUL (U+0000) characters' },
    ]);
  });
});
