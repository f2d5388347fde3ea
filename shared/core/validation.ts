import type * as z from 'zod';
import { ValidationFailed } from '#shared/errors';

export type RequestPart = 'params' | 'query' | 'body';

export interface IssueDetail {
  readonly location: RequestPart;
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** Where a NUL character hides in a value, if anywhere: PostgreSQL's text and jsonb refuse it. */
function nulPath(value: unknown, at: string[] = []): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? at : null;
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    if (key.includes('\u0000')) return [...at, key];
    const found = nulPath(item, [...at, key]);
    if (found) return found;
  }
  return null;
}

/**
 * Parses one part of a request; a failure is a 400 listing every zod issue and where it is. Any
 * NUL character is refused first, for every route, since no column could store it.
 */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, location: RequestPart): z.infer<S> {
  const nul = nulPath(value);
  if (nul) {
    throw new ValidationFailed(`Invalid ${location}: ${nul.join('.') || location}`, {
      details: [
        { location, path: nul.join('.'), code: 'nul_character', message: 'must not contain NUL characters' },
      ],
    });
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details: IssueDetail[] = result.error.issues.flatMap((issue): IssueDetail[] => {
    const at = issue.path.map(String);
    // One detail per unknown field, so that each is named where it is.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        location,
        path: [...at, key].join('.'),
        code: issue.code,
        message: 'unknown field',
      }));
    }
    return [{ location, path: at.join('.'), code: issue.code, message: issue.message }];
  });
  const fields = details.map((d) => d.path || d.location).join(', ');
  throw new ValidationFailed(`Invalid ${location}: ${fields}`, { details });
}
