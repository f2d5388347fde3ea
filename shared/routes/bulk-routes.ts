import * as z from 'zod';
import { MAX_BATCH_BYTES, MAX_BATCH_JSON_ELEMENTS, MAX_BATCH_ROWS } from '#shared/data/row-batch';
import { tableParams } from '#shared/routes/data-routes';
import { error, inTenant } from '#shared/routes/responses';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

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

export const batchBodySchema = z.strictObject({
  rows: z
    .array(row)
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
  ids: z.array(z.string()).optional().describe('Otherwise the ids of the rows, in request order'),
});

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
} as const satisfies Record<string, RouteSpec>;
