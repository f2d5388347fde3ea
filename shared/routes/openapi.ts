import * as z from 'zod';
import { FILTER_OPERATORS, MAX_FILTERS, MAX_IN_VALUES, rowsQuerySchema } from '#shared/data/row-query';
import { IDEMPOTENCY_KEY_PATTERN } from '#shared/http/idempotency';
import { errorBodySchema, gatewayErrorSchema } from '#shared/routes/schemas';
import type { ResponseSpec, RouteSpec, TextBodySpec } from '#shared/routes/types';

type JsonSchema = Record<string, unknown>;

/** The `info` of the document the API serves (`GET /openapi.json`) and CI lints. */
export const API_INFO = { title: 'Tenantry API', version: '0.1.0' } as const;

/** One line per tag of the route table; a tag without one fails `npm run lint:openapi` (tag-description). */
export const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  platform: 'Liveness and this document; public.',
  identity: 'The signed-in caller: profile, memberships, active tenant.',
  tenants: 'Tenant registration, settings, provisioning and offboarding.',
  databases: "A tenant's databases, each provisioned by the workflow.",
  members: "A tenant's members and their built-in roles.",
  roles: 'Custom roles, their permission matrices and their assignment to members.',
  tables: 'Tables of a tenant database and their columns.',
  rows: 'Rows of a tenant table: list with filters, sort and cursor; insert, read, update, delete.',
  modules: 'Modules a tenant enables, and their upgrades rolled out in waves.',
  records: 'Audit records, usage and metrics of a tenant.',
  finance: 'Monthly usage exports (CSV or JSON) for finance.',
  backups:
    'Per-tenant backups of every database (rows, DDL), settings, modules and roles; restore and clone.',
  clusters: 'The database clusters: their registry (state, capacity, load) and tenant placement pins.',
  compliance:
    "A tenant's compliance report (JSON or printable HTML): access, privileged changes, encryption, backups, audit retention.",
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const GATEWAY_ERROR_REF = { $ref: '#/components/schemas/GatewayError' };
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const eitherError = { oneOf: [ERROR_REF, GATEWAY_ERROR_REF] };

/** Answers every operation can get that no route lists itself: they come from the gateway or the error mapping. */
const COMMON_RESPONSES: Readonly<Record<number, JsonSchema>> = {
  429: {
    description:
      'Throttled by API Gateway (the stage rate and burst limits; AWS only): `{ "message": "Too Many Requests" }`',
    content: json(GATEWAY_ERROR_REF),
  },
  500: {
    description:
      'Internal error. From the function: `{ "error": { "code": "internal_error", … } }`, naming no cause; ' +
      'from API Gateway when the function failed or timed out: `{ "message": "Internal Server Error" }`',
    content: json(eitherError),
  },
};

const RETRY_AFTER_HEADER = {
  'Retry-After': {
    description: 'Seconds to wait before sending the same request again',
    schema: { type: 'integer', minimum: 1 },
  },
};

/**
 * Every route behind the authorizer reads the control database (the caller's memberships, the
 * tenant, the registry) before it answers; while an auto-paused cluster resumes, the error mapping
 * answers 503 `database_resuming` with `Retry-After` (shared/http/middleware.ts).
 */
const DATABASE_RESUMING = {
  description:
    'The database is resuming after an automatic pause: `{ "error": { "code": "database_resuming", ' +
    '"retryAfterSeconds": … } }`. Nothing was done; send the same request again after `Retry-After` seconds',
  headers: RETRY_AFTER_HEADER,
};

/** The header of every `idempotent` route (shared/http/idempotency.ts, docs/retry-safe-writes.md). */
const IDEMPOTENCY_KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the request safe to retry: the same caller, key and request (method, path, body) answer ' +
    'the first result again, with `Idempotent-Replayed: true`, for 24 hours. 1 to 100 of ' +
    '`A-Z a-z 0-9 _ -` (a UUID fits); a malformed key is a 400 and nothing is done.',
  schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source, minLength: 1, maxLength: 100 },
  example: '3f1c2a9e-5b7d-4c2a-9a41-0e6f1d2b8c77',
};

/** The RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10) of every tenant route. */
const RATE_LIMIT_HEADERS = {
  'RateLimit-Policy': {
    description:
      'The tenant\'s limits as Structured Fields: `"burst";q=<requests at once>;w=<seconds to refill>, ' +
      '"month";q=<API calls a month>;w=<seconds in the month>`',
    schema: { type: 'string' },
  },
  RateLimit: {
    description: 'What is left: `"burst";r=<requests left at once>;t=<seconds until the burst is full>`',
    schema: { type: 'string' },
  },
};

/** The 429 of every tenant route (shared/http/rate-limit.ts). */
function rateLimitedResponse(route: RouteSpec): JsonSchema {
  const month = route.exemptFromMonthlyQuota
    ? ' (never refused for the month: this read shows an admin why it ran out)'
    : '; or `quota_exceeded` (`quota: "apiCallsPerMonth"`, `limit`, `used`): the month\'s API calls are used up, `Retry-After` until the UTC month turns';
  return {
    description:
      `\`rate_limited\`: more requests for this tenant than its plan allows a second (with its burst)${month}. ` +
      `Nothing was done, and the request is not billed. Or ${String(COMMON_RESPONSES[429]?.description)}`,
    headers: { ...RETRY_AFTER_HEADER, ...RATE_LIMIT_HEADERS },
    content: json(eitherError),
  };
}

/** The header of every `preferMinimal` route (shared/http/prefer.ts, RFC 7240 §4.2). */
const PREFER_PARAMETER = {
  name: 'Prefer',
  in: 'header',
  required: false,
  description:
    '`return=minimal` (RFC 7240): answer the count and the ids of the rows, without reading them back ' +
    '(faster for bulk loads); the answer then carries `Preference-Applied: return=minimal`. Other ' +
    'preferences are ignored.',
  schema: { type: 'string' },
  example: 'return=minimal',
};

/** `idempotent-replayed` (REPLAYED_HEADER), as the document spells header names. */
const IDEMPOTENT_REPLAYED = {
  'Idempotent-Replayed': {
    description:
      '`true` when this is the first result of an earlier request with the same Idempotency-Key, ' +
      'given again (the request was not run again)',
    schema: { type: 'string', enum: ['true'] },
  },
};

const IDEMPOTENCY_IN_PROGRESS =
  'idempotency_in_progress: a request with this Idempotency-Key is still running; nothing was done. ' +
  'Send the same request again after `Retry-After` seconds';

/** A tenant route's answers with the 429 of its limits, and the RateLimit headers on its successes. */
function withRateLimit(route: RouteSpec, responses: Record<string, JsonSchema>): Record<string, JsonSchema> {
  if (route.access.kind !== 'tenant') return responses;
  const out: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    out[status] =
      code >= 200 && code < 300
        ? { ...response, headers: { ...(response.headers as JsonSchema | undefined), ...RATE_LIMIT_HEADERS } }
        : response;
  }
  out[429] = rateLimitedResponse(route);
  const forbidden = out[403];
  if (route.growsStorage && forbidden) {
    out[403] = {
      ...forbidden,
      description: `${String(forbidden.description)}; or \`quota_exceeded\` (\`quota: "storageBytes"\`, \`limit\`, \`used\`): the latest storage snapshot reached the plan's storage; nothing was written`,
    };
  }
  return out;
}

/** The answers an Idempotency-Key adds to a route: replay header on successes, 409, 422, 400. */
function withIdempotency(responses: Record<string, JsonSchema>): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(responses)) {
    const code = Number(status);
    out[status] =
      code >= 200 && code < 300
        ? {
            ...response,
            headers: { ...(response.headers as JsonSchema | undefined), ...IDEMPOTENT_REPLAYED },
          }
        : response;
  }
  const own409 = responses[409]?.description;
  out[409] = {
    description: own409 ? `${own409}; or ${IDEMPOTENCY_IN_PROGRESS}` : IDEMPOTENCY_IN_PROGRESS,
    headers: RETRY_AFTER_HEADER,
    content: json(ERROR_REF),
  };
  out[422] = {
    description:
      'idempotency_key_mismatch: this Idempotency-Key was used by the caller for another request ' +
      '(route, path or body); nothing was done',
    content: json(ERROR_REF),
  };
  const own400 = responses[400]?.description ?? 'Invalid input';
  out[400] = { description: `${own400}, or a malformed Idempotency-Key header`, content: json(ERROR_REF) };
  return out;
}

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  // Schemas with refinements zod cannot express (z.custom) become `{}` rather than failing the document.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/**
 * `filter[column][operator]=value` of the rows listing. OpenAPI cannot name a parameter per
 * column, so it is one `deepObject` parameter: an object keyed by column whose values are
 * objects keyed by operator (OpenAPI 3.1 defines deepObject for one level; the second is the
 * same bracket syntax, which is what the API parses).
 */
function filterParameter(): JsonSchema {
  const operators = FILTER_OPERATORS.join(', ');
  return {
    name: 'filter',
    in: 'query',
    required: false,
    style: 'deepObject',
    explode: true,
    description:
      `Filters as \`filter[column][operator]=value\`, ANDed; at most ${MAX_FILTERS}. Operators: ${operators}. ` +
      `\`in\` takes a comma-separated list or a JSON array of strings (1 to ${MAX_IN_VALUES} values); ` +
      '`is_null` takes `true` or `false`; `like` takes an SQL LIKE pattern. A column the table does not ' +
      "have, or an operator the column's type does not take, is a 400 that names the query key.",
    schema: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: Object.fromEntries(FILTER_OPERATORS.map((operator) => [operator, { type: 'string' }])),
        additionalProperties: false,
      },
    },
    example: { status: { eq: 'open' }, amount: { gte: '10' } },
  };
}

/** Query schemas with a catch-all (keys the schema cannot list) and the parameters that document it. */
const QUERY_GRAMMARS = new Map<z.ZodType, () => JsonSchema[]>([[rowsQuerySchema, () => [filterParameter()]]]);

function parametersOf(route: RouteSpec, location: 'path' | 'query'): JsonSchema[] {
  const schema = location === 'path' ? route.request.params : route.request.query;
  const declared = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
  if (!schema) {
    return location === 'path'
      ? declared.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }))
      : [];
  }
  const json = toSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
    additionalProperties?: unknown;
  };
  const grammar = QUERY_GRAMMARS.get(schema);
  if (json.additionalProperties !== undefined && json.additionalProperties !== false && !grammar) {
    throw new Error(`${route.operationId}: its ${location} takes keys the document cannot name`);
  }
  const named = Object.entries(json.properties ?? {}).map(([name, { description, ...property }]) => ({
    name,
    in: location,
    required: location === 'path' || (json.required ?? []).includes(name),
    ...(description === undefined ? {} : { description }),
    schema: property,
  }));
  return [...named, ...(grammar?.() ?? [])];
}

/** Text media types (a file as the body) as OpenAPI content entries. */
const textContent = (texts: readonly TextBodySpec[]) =>
  Object.fromEntries(
    texts.map((text) => [text.mediaType, { schema: { type: 'string', description: text.description } }]),
  );

function responseObject(status: number, response: ResponseSpec): JsonSchema {
  if (status < 400) {
    const texts = response.text === undefined ? [] : ([] as TextBodySpec[]).concat(response.text);
    const content = {
      ...(response.schema ? json(toSchema(response.schema, 'output')) : {}),
      ...textContent(texts),
    };
    return { description: response.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  // 401: API Gateway's authorizer answers its own body before the function runs; the function
  // answers ours when the token verified but its claims do not make a caller.
  const schema =
    status === 401
      ? eitherError
      : response.schema && response.schema !== errorBodySchema
        ? toSchema(response.schema, 'output')
        : ERROR_REF;
  return { description: response.description, content: json(schema) };
}

function responsesOf(route: RouteSpec): Record<string, JsonSchema> {
  // Every route behind the authorizer can be refused by it, whether or not it lists a 401.
  const refused: Record<number, ResponseSpec> =
    route.access.kind === 'public' ? {} : { 401: { description: 'No valid token' } };
  const listed: Record<number, ResponseSpec> = { ...refused, ...route.responses };
  const responses: Record<string, JsonSchema> = {
    ...Object.fromEntries(Object.entries(listed).map(([status, r]) => [status, responseObject(+status, r)])),
    ...Object.fromEntries(Object.entries(COMMON_RESPONSES).filter(([status]) => !(status in listed))),
  };
  if (route.access.kind !== 'public') {
    // A route that lists a 503 of its own answers either; the document says both.
    const own = listed[503];
    responses[503] = {
      ...DATABASE_RESUMING,
      description: own
        ? `${own.description}; or: ${DATABASE_RESUMING.description}`
        : DATABASE_RESUMING.description,
      content: json(ERROR_REF),
    };
  }
  return responses;
}

/** The OpenAPI 3.1 document, generated from the route table and its zod schemas. */
export function openApiDocument(
  routes: readonly RouteSpec[],
  info: { title: string; version: string } = API_INFO,
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      parameters: [
        ...parametersOf(route, 'path'),
        ...parametersOf(route, 'query'),
        ...(route.idempotent ? [IDEMPOTENCY_KEY_PARAMETER] : []),
        ...(route.preferMinimal ? [PREFER_PARAMETER] : []),
      ],
      responses: withRateLimit(
        route,
        route.idempotent ? withIdempotency(responsesOf(route)) : responsesOf(route),
      ),
      security: route.access.kind === 'public' ? [] : [{ cognito: [] }],
      'x-tenantry-access':
        route.access.kind === 'tenant'
          ? { kind: 'tenant', permission: route.access.permission }
          : route.access.kind === 'platform'
            ? { kind: 'platform', groups: route.access.groups }
            : { kind: route.access.kind },
    };
    if (route.request.body) {
      operation.requestBody = {
        required: true,
        content: route.request.textBody
          ? textContent(route.request.textBody)
          : json(toSchema(route.request.body, 'input')),
      };
    }
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = operation;
  }
  const tags = [...new Set(routes.flatMap((route) => route.tags))].map((name) => ({
    name,
    ...(TAG_DESCRIPTIONS[name] === undefined ? {} : { description: TAG_DESCRIPTIONS[name] }),
  }));
  return {
    openapi: '3.1.0',
    info: {
      ...info,
      description: 'Tenantry: multi-tenant SaaS platform API. Bearer: a Cognito ID token.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative to where this document is served: the API root. API Gateway serves the HTTP API on
    // its `$default` stage (no stage segment in the path) and the local gateway at its own root,
    // so `/` is right on AWS and locally without knowing the deployed URL when the document is built.
    servers: [
      { url: '/', description: 'The API this document was fetched from (AWS or the local platform)' },
    ],
    tags,
    components: {
      securitySchemes: { cognito: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        Error: toSchema(errorBodySchema, 'output'),
        GatewayError: toSchema(gatewayErrorSchema, 'output'),
      },
    },
    paths,
  };
}
