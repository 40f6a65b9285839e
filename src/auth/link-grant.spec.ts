import { describe, expect, it } from '@jest/globals';
import { linkGrantErrors, type LinkGrantInput } from './link-grant.js';

const LINK = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
const fields = (input: LinkGrantInput): string[] =>
  linkGrantErrors(input).map((error) => error.field);

describe('linkGrantErrors (SPEC §11)', () => {
  it('takes a consumer key that names its links or says allLinks: true', () => {
    expect(fields({ role: 'consumer', linkIds: [LINK] })).toEqual([]);
    expect(fields({ role: 'consumer', linkIds: [LINK], allLinks: false })).toEqual([]);
    expect(fields({ role: 'consumer', allLinks: true })).toEqual([]);
    expect(fields({ role: 'admin' })).toEqual([]);
  });

  it('refuses a consumer key with neither, both, or linkIds: null, naming the field', () => {
    expect(fields({ role: 'consumer' })).toEqual(['linkIds']);
    expect(fields({ role: 'consumer', allLinks: false })).toEqual(['linkIds']);
    expect(fields({ role: 'consumer', allLinks: null })).toEqual(['linkIds']);
    expect(fields({ role: 'consumer', linkIds: null })).toEqual(['linkIds']);
    expect(fields({ role: 'consumer', linkIds: null, allLinks: true })).toEqual(['linkIds']);
    expect(fields({ role: 'consumer', linkIds: [LINK], allLinks: true })).toEqual(['allLinks']);
  });

  it('refuses either field on an admin key, which reaches every link anyway', () => {
    expect(fields({ role: 'admin', linkIds: [LINK] })).toEqual(['linkIds']);
    expect(fields({ role: 'admin', linkIds: null })).toEqual(['linkIds']);
    expect(fields({ role: 'admin', allLinks: true })).toEqual(['allLinks']);
    expect(fields({ role: 'admin', linkIds: [LINK], allLinks: false })).toEqual([
      'linkIds',
      'allLinks',
    ]);
  });
});
