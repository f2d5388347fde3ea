import * as z from 'zod';

/** Cursor parts reach SQL as parameters: text PostgreSQL can store, timestamps it can parse. */
export const cursorText = z
  .string()
  .max(512)
  .refine((text) => !text.includes('\u0000'));

/** A `(created_at, id)` keyset position. */
export const createdCursor = z.tuple([
  // Year 1 onwards: PostgreSQL refuses year 0 (a 500 otherwise).
  z.iso.datetime().refine((t) => Number(t.slice(0, 4)) >= 1 && Number.isFinite(Date.parse(t))),
  cursorText,
]);

/**
 * `created_at` to the microsecond, as text, for cursors: API timestamps have milliseconds only,
 * and a cursor made from them would hand the last row of a page out again on the next.
 */
export const createdSortKey = (column = 'created_at') =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "sortKey"`;
