import { describe, expect, it } from '@jest/globals';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-body.js';

function nestedObjects(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('nestedDeeperThan', () => {
  it('counts each object or array level, and scalars as none', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan(null, 0)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan([[1]], 1)).toBe(true);
    expect(nestedDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestedDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
  });

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(nestedDeeperThan(nestedObjects(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestedDeeperThan(nestedObjects(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
  });

  it('finds a deep branch beside shallow ones, and survives depths that would overflow recursion', () => {
    const wide = {
      shallow: Array.from({ length: 1000 }, (_, i) => ({ i })),
      deep: nestedObjects(40),
    };
    expect(nestedDeeperThan(wide, MAX_JSON_DEPTH)).toBe(true);
    expect(nestedDeeperThan(nestedObjects(200_000), MAX_JSON_DEPTH)).toBe(true);
  });
});
