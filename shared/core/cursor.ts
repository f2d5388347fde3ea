import type * as z from 'zod';
import { ValidationFailed } from '#shared/errors';

/** Opaque keyset cursors: the last item's sort key, base64url JSON. Clients never parse them. */
export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor against the shape its list expects; anything else is a 400, never a 500. */
export function decodeCursor<S extends z.ZodType>(
  schema: S,
  cursor: string | undefined,
): z.infer<S> | undefined {
  if (cursor === undefined) return undefined;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = schema.safeParse(decoded);
  if (!parsed.success) {
    throw new ValidationFailed('Invalid cursor', {
      details: [
        { location: 'query', path: 'cursor', code: 'invalid_cursor', message: 'Not a cursor of this list' },
      ],
    });
  }
  return parsed.data;
}

/** Builds a page from `limit + 1` fetched rows: the extra row only says there is a next page. */
export function pageOf<T, K>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => K,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
