import { describe, expect, it } from '@jest/globals';
import { decodeCursor, encodeCursor } from './cursor.js';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const forged = (value: unknown): string =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('decodeCursor', () => {
  it('reads back what encodeCursor wrote', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    expect(decodeCursor(encodeCursor({ at, id: ID }))).toEqual({ at, id: ID });
  });

  it('refuses a forged date outside PostgreSQL range with a 400 (year -271821 was a 500)', () => {
    for (const iso of [
      '-271821-04-20T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '2024-02-30T00:00:00.000Z',
      '2024-01-01',
    ]) {
      expect(() => decodeCursor(forged([iso, ID]))).toThrow(
        expect.objectContaining({ code: 'validation_failed' }),
      );
    }
  });
});
