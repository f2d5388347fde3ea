/**
 * ListSecrets (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_ListSecrets.html)
 * and the secret details it shares with DescribeSecret.
 *
 * Filters (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html):
 * `name`, `tag-key`, `tag-value`, `primary-region` — prefix match, case-sensitive; `description` —
 * prefix match, not case-sensitive; `all` — the value broken into words, each searched in name,
 * description, tag keys and values, not case-sensitive; a value starting with `!` negates.
 * Up to 10 filters of 1–10 values (max 512 characters, pattern `^\!?[a-zA-Z0-9 :_@\/\+\=\.\-\!]*$`).
 * AWS does not say how filters combine; here a secret must pass every filter, and passes a filter
 * when any of its values matches (all negated values must hold).
 * MaxResults 1–100; secrets in their recovery window only with IncludePlannedDeletion; listed by
 * CreatedDate (SortOrder asc|desc; the default direction is not documented: ascending here).
 */
import { demand, type OperationContext } from './secrets-manager-access.ts';
import type { StoredSecret } from './secrets-manager-state.ts';
import {
  asObject,
  type JsonObject,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalString,
  ServiceError,
  validationError,
} from './secrets-manager-wire.ts';

const FILTER_KEYS = [
  'description',
  'name',
  'tag-key',
  'tag-value',
  'primary-region',
  'owning-service',
  'all',
] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const SORT_BY = ['created-date', 'last-accessed-date', 'last-changed-date', 'name'] as const;
const DEFAULT_PAGE = 100;

interface Filter {
  readonly key: FilterKey;
  readonly values: readonly string[];
}

export async function listSecrets(ctx: OperationContext, input: JsonObject): Promise<JsonObject> {
  const includePlanned = optionalBoolean(input, 'IncludePlannedDeletion') ?? false;
  const maxResults = optionalInteger(input, 'MaxResults', { min: 1, max: 100 }) ?? DEFAULT_PAGE;
  const nextToken = optionalString(input, 'NextToken', { min: 1, max: 4096 });
  const sortOrder = enumMember(input, 'SortOrder', ['asc', 'desc']) ?? 'asc';
  const sortBy = enumMember(input, 'SortBy', SORT_BY) ?? 'created-date';
  const filters = filtersOf(input);
  await demand(ctx, 'ListSecrets', { resource: '*', named: '*', secret: undefined });

  const query = JSON.stringify({ includePlanned, filters, sortOrder, sortBy });
  const start = nextToken === undefined ? 0 : offsetOf(nextToken, query);
  const matching = ctx.state
    .all()
    .filter((secret) => includePlanned || secret.deletionDate === undefined)
    .filter((secret) => filters.every((filter) => passes(secret, filter, ctx.region)))
    .sort((a, b) => compare(a, b, sortBy) * (sortOrder === 'asc' ? 1 : -1));
  const page = matching.slice(start, start + maxResults);
  const end = start + page.length;
  return {
    SecretList: page.map(describe),
    ...(end < matching.length ? { NextToken: tokenFor(end, query) } : {}),
  };
}

/** The secret's details without its value: a ListSecrets entry; DescribeSecret names the
 * version map `VersionIdsToStages` instead. Only members with a value are present. */
export function describe(secret: StoredSecret): JsonObject {
  const stages = versionsToStages(secret);
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description === undefined ? {} : { Description: secret.description }),
    ...(secret.kmsKeyId === undefined ? {} : { KmsKeyId: secret.kmsKeyId }),
    CreatedDate: epochSeconds(secret.createdAt),
    LastChangedDate: epochSeconds(secret.lastChangedAt),
    ...(secret.lastAccessedAt === undefined ? {} : { LastAccessedDate: epochSeconds(secret.lastAccessedAt) }),
    // "The date the secret is scheduled for deletion. If it is not scheduled for deletion, this field is omitted."
    ...(secret.deletionDate === undefined ? {} : { DeletedDate: epochSeconds(secret.deletionDate) }),
    ...(secret.tags.length === 0 ? {} : { Tags: secret.tags.map((tag) => ({ ...tag })) }),
    ...(Object.keys(stages).length === 0 ? {} : { SecretVersionsToStages: stages }),
  };
}

/** Versions that carry a staging label; one without any is deprecated and not listed. */
export function versionsToStages(secret: StoredSecret): Record<string, string[]> {
  return Object.fromEntries(
    secret.versions
      .filter((version) => version.stages.length > 0)
      .map((version) => [version.versionId, [...version.stages]]),
  );
}

/** AWS JSON protocols carry timestamps as epoch seconds (fractions allowed). */
export function epochSeconds(ms: number): number {
  return ms / 1000;
}

function filtersOf(input: JsonObject): Filter[] {
  return (optionalList(input, 'Filters', 10) ?? []).map((item, i) => {
    const filter = asObject(item, `Filters[${i}]`);
    const member = `filters.${i + 1}.member`;
    const key = filter.Key;
    if (typeof key !== 'string' || !(FILTER_KEYS as readonly string[]).includes(key)) {
      throw validationError(
        `${member}.key`,
        key,
        `Member must satisfy enum value set: [${FILTER_KEYS.join(', ')}]`,
      );
    }
    const values = optionalList(filter, 'Values', 10) ?? [];
    if (values.length === 0)
      throw validationError(`${member}.values`, '[]', 'Member must have length greater than or equal to 1');
    return {
      key: key as FilterKey,
      values: values.map((value, j) => {
        if (typeof value !== 'string' || value.length > 512 || !FILTER_VALUE.test(value)) {
          throw validationError(
            `${member}.values.${j + 1}.member`,
            value,
            `Member must satisfy regular expression pattern: ${FILTER_VALUE.source}`,
          );
        }
        return value;
      }),
    };
  });
}

function passes(secret: StoredSecret, filter: Filter, region: string): boolean {
  const negated = filter.values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
  const wanted = filter.values.filter((value) => !value.startsWith('!'));
  const hit = (value: string) => matches(secret, filter.key, value, region);
  return negated.every((value) => !hit(value)) && (wanted.length === 0 || wanted.some(hit));
}

function matches(secret: StoredSecret, key: FilterKey, value: string, region: string): boolean {
  switch (key) {
    case 'name':
      return secret.name.startsWith(value);
    case 'description':
      return (secret.description ?? '').toLowerCase().startsWith(value.toLowerCase());
    case 'tag-key':
      return secret.tags.some((tag) => tag.Key.startsWith(value));
    case 'tag-value':
      return secret.tags.some((tag) => tag.Value.startsWith(value));
    case 'primary-region':
      return region.startsWith(value);
    case 'owning-service':
      return false; // no secret here is managed by another service
    case 'all': {
      const haystack = [
        secret.name,
        secret.description ?? '',
        ...secret.tags.flatMap((tag) => [tag.Key, tag.Value]),
      ]
        .join(' ')
        .toLowerCase();
      return words(value).every((word) => haystack.includes(word));
    }
  }
}

/** "The words are separated by any change from uppercase to lowercase, from letter to number, or
 * from number/letter to punctuation" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/manage_search-secret.html). */
function words(value: string): string[] {
  return (value.match(/[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+/g) ?? []).map((word) => word.toLowerCase());
}

function compare(a: StoredSecret, b: StoredSecret, sortBy: (typeof SORT_BY)[number]): number {
  const key = (secret: StoredSecret): number | string =>
    sortBy === 'name'
      ? secret.name
      : sortBy === 'last-changed-date'
        ? secret.lastChangedAt
        : sortBy === 'last-accessed-date'
          ? (secret.lastAccessedAt ?? 0)
          : secret.createdAt;
  const [x, y] = [key(a), key(b)];
  if (x !== y) return x < y ? -1 : 1;
  return a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0; // a stable order for paging
}

function enumMember<T extends string>(input: JsonObject, key: string, allowed: readonly T[]): T | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const member = key.charAt(0).toLowerCase() + key.slice(1);
    throw validationError(member, value, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

/** An opaque token bound to the query it continues, so it cannot be replayed against another. */
function tokenFor(offset: number, query: string): string {
  return Buffer.from(JSON.stringify({ offset, query })).toString('base64url');
}

/** CommonErrors: InvalidNextTokenException "The NextToken value is invalid."
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html */
function offsetOf(token: string, query: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      offset?: unknown;
      query?: unknown;
    };
    if (
      parsed.query === query &&
      typeof parsed.offset === 'number' &&
      Number.isInteger(parsed.offset) &&
      parsed.offset >= 0
    ) {
      return parsed.offset;
    }
  } catch {
    // falls through to the refusal below
  }
  throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
}
