import * as z from 'zod';
import { MAX_BATCH_BYTES, MAX_BATCH_JSON_ELEMENTS, MAX_BATCH_ROWS } from '#shared/data/row-batch';
import { ROW_FILE_FORMATS, ROW_FILE_MEDIA_TYPES, rowCountOfFile } from '#shared/data/row-files';
import { tableParams } from '#shared/routes/data-routes';
import { error, inTenant } from '#shared/routes/responses';
import { defineRoute, type RouteSpec, type TextBodySpec } from '#shared/routes/types';

/*
 * The rows of a table many at a time: a batch insert, and export and import as CSV or NDJSON
 * (issue 14), merged into the route table. Why `…/rows/batch` and not `…/rows:batch`, and every
 * limit with its source: docs/tenant-data.md ("Many rows at once").
 *
 * The paths take a literal segment after `rows`, not a `:verb` suffix: API Gateway HTTP API routes
 * are literal segments and `{variables}` (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html);
 * nothing there says a `:` inside a segment is routed as a literal, and API Gateway's REST APIs
 * long refused it in path parts (the note cited in https://github.com/aws-amplify/amplify-cli/issues/3608).
 * `GET …/rows/export` and `GET …/rows/{rowId}` both match `/rows/export`; API Gateway picks the
 * route with more literal segments ("Routing API requests", same page), and a row id is a UUID.
 */

const row = z.record(z.string(), z.unknown());

/**
 * A row of a batch as sent: any JSON object, kept as it is for the table's insert schema (a record
 * schema would drop keys such as `__proto__` and so insert a row the client never sent).
 */
const sentRow = z
  .custom<Record<string, unknown>>(
    (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
    {
      message: 'a row is a JSON object of column values',
    },
  )
  .meta({ type: 'object', additionalProperties: true, description: 'Column values, as for POST …/rows' });

export const batchBodySchema = z.strictObject({
  rows: z
    .array(sentRow)
    .describe(
      `1 to ${MAX_BATCH_ROWS} rows, each checked against the table's columns as a single-row insert is; ` +
        `more is a 400 too_many_rows naming the limit (limitRows)`,
    ),
});

const batchResultSchema = z.object({
  inserted: z.number().describe('How many rows were inserted (all of them: a batch is all or nothing)'),
  items: z
    .array(row)
    .optional()
    .describe('Every row as inserted, in request order, when they total at most 512 KiB of JSON'),
  ids: z
    .array(z.string())
    .optional()
    .describe('Otherwise (or under Prefer: return=minimal) the ids of the rows, in request order'),
});

const fileFormat = z.enum(ROW_FILE_FORMATS);

export const exportQuerySchema = z.strictObject({
  format: fileFormat.default('csv'),
  cursor: z
    .string()
    .max(16_384)
    .optional()
    .describe('The x-tenantry-next-cursor header of the previous page (opaque); only valid with its sort'),
  sort: z
    .string()
    .regex(/^-?[a-z][a-z0-9_]{0,62}$/, 'a column name, with - in front for descending')
    .optional()
    .describe('As for GET …/rows: a column, -column for descending; default created_at, ties by id'),
});

export const importQuerySchema = z.strictObject({
  format: fileFormat.describe('csv (a text/csv body) or ndjson (an application/x-ndjson body)'),
});

const fileTexts = (what: string): readonly [TextBodySpec, ...TextBodySpec[]] => [
  {
    mediaType: ROW_FILE_MEDIA_TYPES.csv,
    description: `${what} as CSV (UTF-8, RFC 4180): a header row of column names, then one row a line`,
  },
  {
    mediaType: ROW_FILE_MEDIA_TYPES.ndjson,
    description: `${what} as NDJSON: one JSON object of column values a line`,
  },
];

const tooLarge = error(
  `The body is over ${MAX_BATCH_BYTES} bytes (payload_too_large, limitBytes); nothing was written`,
);
const refused = error(
  'A unique or foreign key constraint refused a row (its index as row, when known); nothing was written',
);
const batchErrors = {
  ...inTenant,
  400: error(
    `Invalid rows (each issue's path starts with the row's index: 3.age), more than ${MAX_BATCH_ROWS} rows (too_many_rows), or a row over the row cap (row_too_large); nothing was written`,
  ),
  404: error('Unknown tenant, database or table, or one of another tenant'),
  409: refused,
  413: tooLarge,
} as const;

const tableOf = (params: unknown) => (params as { table?: unknown }).table;

export const bulkRoutes = {
  insertRows: defineRoute({
    operationId: 'insertRows',
    method: 'POST',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/batch',
    summary: `Insert up to ${MAX_BATCH_ROWS} rows in one transaction, all or nothing`,
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'rows/post-rows',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    growsStorage: true,
    idempotent: true,
    preferMinimal: true,
    request: { params: tableParams, body: batchBodySchema },
    bodyLimits: { bytes: MAX_BATCH_BYTES, jsonElements: MAX_BATCH_JSON_ELEMENTS },
    auditDetails: ({ params, body }) => ({
      rows: (body as { rows: unknown[] }).rows.length,
      table: tableOf(params),
    }),
    responses: {
      201: {
        description: 'Inserted: every row, or their ids when the rows are large',
        schema: batchResultSchema,
      },
      ...batchErrors,
    },
  }),
  importRows: defineRoute({
    operationId: 'importRows',
    method: 'POST',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/import',
    summary: `Import a CSV or NDJSON file of up to ${MAX_BATCH_ROWS} rows (an export page as it is), all or nothing`,
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:write' },
    handler: 'rows/import-rows',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    growsStorage: true,
    idempotent: true,
    preferMinimal: true,
    request: {
      params: tableParams,
      query: importQuerySchema,
      body: z.string(),
      textBody: fileTexts('The rows'),
    },
    bodyLimits: { bytes: MAX_BATCH_BYTES },
    auditDetails: ({ params, query, body }) => {
      const format = (query as { format: (typeof ROW_FILE_FORMATS)[number] }).format;
      return { rows: rowCountOfFile(format, String(body)), table: tableOf(params), format };
    },
    responses: {
      201: {
        description: 'Inserted: every row, or their ids when the rows are large',
        schema: batchResultSchema,
      },
      ...batchErrors,
      415: error('The body is not the media type of its format (text/csv, application/x-ndjson)'),
    },
  }),
  exportRows: defineRoute({
    operationId: 'exportRows',
    method: 'GET',
    path: '/tenants/{tenantId}/databases/{databaseId}/tables/{table}/rows/export',
    summary: `One page of the table as a file (at most ${MAX_BATCH_ROWS} rows and ${MAX_BATCH_BYTES} bytes); the next page's cursor is in x-tenantry-next-cursor`,
    tags: ['rows'],
    access: { kind: 'tenant', permission: 'rows:read' },
    handler: 'rows/export-rows',
    needs: ['controlDb', 'tenantData', 'telemetry'],
    request: { params: tableParams, query: exportQuerySchema },
    responses: {
      200: {
        description:
          'A page of rows. Headers: x-tenantry-next-cursor (absent on the last page), x-tenantry-rows (rows in this page)',
        text: fileTexts('The page'),
      },
      ...inTenant,
      404: error('Unknown tenant, database or table, or one of another tenant'),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
