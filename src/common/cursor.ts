import { AppError } from './app-error.js';

/** Position in a newest-first listing: the last item's creation time and id (ties broken by id). */
export interface PagePosition {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** An opaque cursor: base64url of `[iso time, id]`; clients must not build it themselves. */
export function encodeCursor(position: PagePosition): string {
  return Buffer.from(JSON.stringify([position.at.toISOString(), position.id]), 'utf8').toString(
    'base64url',
  );
}

/** @throws AppError validation_failed (field `cursor`) for anything encodeCursor did not make. */
export function decodeCursor(cursor: string): PagePosition {
  const invalid = (): AppError =>
    AppError.validation([{ field: 'cursor', message: 'cursor is not valid' }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw invalid();
  const [iso, id] = decoded as unknown[];
  if (typeof iso !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw invalid();
  // Only what encodeCursor writes: an extended year such as -271821 is a valid Date but out of
  // PostgreSQL's timestamptz range, and was a 500.
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || !ISO_TIMESTAMP.test(iso) || at.toISOString() !== iso) {
    throw invalid();
  }
  return { at, id };
}

/** Splits a result fetched with limit + 1 rows into the page and the next cursor. */
export function toPage<T extends { id: string }>(
  rows: T[],
  limit: number,
  positionOf: (row: T) => Date,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  const nextCursor =
    rows.length > limit && last ? encodeCursor({ at: positionOf(last), id: last.id }) : null;
  return { items, nextCursor };
}
