import { describe, expect, it } from '@jest/globals';
import { parseChange } from './change-notifications.js';

describe('parseChange', () => {
  it('reads the changes publish() sends', () => {
    expect(parseChange('{"kind":"api_key","id":"3f0c"}')).toEqual({ kind: 'api_key', id: '3f0c' });
    expect(parseChange('{"kind":"link","id":"9a1b","extra":true}')).toEqual({
      kind: 'link',
      id: '9a1b',
    });
  });

  it.each([
    undefined,
    '',
    'not json',
    'null',
    '"link"',
    '[]',
    '{"kind":"user","id":"1"}',
    '{"kind":"link"}',
    '{"kind":"link","id":""}',
    '{"kind":"link","id":42}',
    `{"kind":"link","id":"${'x'.repeat(129)}"}`,
    '{"kind":"__proto__","id":"1"}',
  ])('ignores %p', (payload) => {
    expect(parseChange(payload)).toBeUndefined();
  });
});
