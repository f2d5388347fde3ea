import type * as z from 'zod';
import { ValidationFailed } from '#shared/errors';

export type RequestPart = 'params' | 'query' | 'body';

export interface IssueDetail {
  readonly location: RequestPart;
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/** The deepest nesting a JSON body may have: deeper bodies would exhaust recursive validation. */
export const MAX_JSON_DEPTH = 64;
/** The most keys and array items a JSON body may hold, counted over every level. */
export const MAX_JSON_ELEMENTS = 20_000;

/**
 * Refuses a parsed JSON value nested deeper than `MAX_JSON_DEPTH` or holding more than
 * `maxElements` (default `MAX_JSON_ELEMENTS`) keys and items, before anything recursive (zod, the
 * NUL check, redaction) walks it. Iterative on purpose: it must not overflow the stack on the very
 * input it guards against.
 */
export function assertBoundedJson(
  value: unknown,
  location: RequestPart,
  maxElements: number = MAX_JSON_ELEMENTS,
): void {
  const pending: [unknown, number][] = [[value, 1]];
  let elements = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) {
      throw new ValidationFailed(`Invalid ${location}: nested deeper than ${MAX_JSON_DEPTH} levels`, {
        details: [
          {
            location,
            path: '',
            code: 'too_deep',
            message: `JSON must not be nested deeper than ${MAX_JSON_DEPTH} levels`,
          },
        ],
      });
    }
    const children = Object.values(item);
    elements += children.length;
    if (elements > maxElements) {
      throw new ValidationFailed(`Invalid ${location}: more than ${maxElements} keys and items`, {
        details: [
          {
            location,
            path: '',
            code: 'too_many_elements',
            message: `JSON must not hold more than ${maxElements} keys and items in all`,
          },
        ],
      });
    }
    for (const child of children) pending.push([child, depth + 1]);
  }
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
