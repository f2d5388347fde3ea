import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import { ValidationFailed } from '#shared/errors';
import { csvCell, csvLine } from '#shared/exports/csv';
import type { AuditRecords } from '#shared/records/stores';

/**
 * The audit export (docs/audit-usage.md, "Export"): a tenant's audit records, oldest first, as
 * NDJSON or CSV, in parts. A part is read from the AuditStore page after page and written line
 * after line until it holds `maxRecords` records or the next line would take its body past
 * `maxBytes`; then it ends with the sort key to resume after. Only one part and one store page are
 * ever held in memory.
 */

export const AUDIT_EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

/** The CSV's columns, in order: the audit list's fields, `details` as JSON text. */
export const AUDIT_EXPORT_COLUMNS = [
  'at',
  'eventId',
  'tenantId',
  'userId',
  'action',
  'resource',
  'outcome',
  'statusCode',
  'requestId',
  'details',
] as const;

/**
 * A part's body, measured as the Lambda response carries it: the body is a JSON string inside the
 * response document, so each line counts with its escaping (`"` and `\` doubled, control
 * characters as `\u00XX`). A synchronous Lambda invocation answers at most 6 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html), under the HTTP API's 10 MB
 * payload (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html):
 * 4 MiB of body leaves room for the headers and the response document around it.
 */
export const MAX_AUDIT_EXPORT_PART_BYTES = 4 * 1024 * 1024;
/** Records per part unless the request asks for fewer (`limit`). */
export const DEFAULT_AUDIT_EXPORT_RECORDS = 5_000;
export const MAX_AUDIT_EXPORT_RECORDS = 10_000;
/** Records asked of the store at a time (each store page is at most 500 items a request). */
const STORE_PAGE = 500;

export interface AuditExportRequest {
  readonly tenantId: string;
  /** ISO timestamps (UTC, `toISOString`), inclusive. */
  readonly from: string;
  readonly to: string;
  readonly format: AuditExportFormat;
  /** The sort key of the last record of the previous part. */
  readonly after?: string | undefined;
  readonly maxRecords: number;
  /** @default MAX_AUDIT_EXPORT_PART_BYTES */
  readonly maxBytes?: number;
}

export interface AuditExportPart {
  /** The part's text: a CSV part starts with its header line. */
  readonly text: string;
  readonly records: number;
  /** The sort key to resume after; null when the range has no more records. */
  readonly nextSk: string | null;
}

interface ExportedRecord {
  readonly eventId: string;
  readonly tenantId: string | null;
  readonly userId: string;
  readonly action: string;
  readonly resource: string;
  readonly outcome: string;
  readonly statusCode: number;
  readonly requestId: string;
  readonly at: string;
  readonly details?: Record<string, unknown> | undefined;
}

/** The sort key a record is stored under (AuditStore.insertOf): its time, then its event id. */
export const auditSortKey = (record: Pick<ExportedRecord, 'at' | 'eventId'>) =>
  `${record.at}#${record.eventId}`;

/** One record as a line of the file, its line end included. */
export function auditExportLine(record: ExportedRecord, format: AuditExportFormat): string {
  const fields = {
    at: record.at,
    eventId: record.eventId,
    tenantId: record.tenantId,
    userId: record.userId,
    action: record.action,
    resource: record.resource,
    outcome: record.outcome,
    statusCode: record.statusCode,
    requestId: record.requestId,
    details: record.details ?? {},
  };
  if (format === 'ndjson') return `${JSON.stringify(fields)}\n`;
  return `${csvLine(AUDIT_EXPORT_COLUMNS.map((column) => (column === 'details' ? JSON.stringify(fields.details) : fields[column])))}\r\n`;
}

export const auditExportHeader = () => `${AUDIT_EXPORT_COLUMNS.map(csvCell).join(',')}\r\n`;

/** What a line adds to the response document: its bytes once JSON-escaped, without the quotes. */
const responseBytes = (line: string) => Buffer.byteLength(JSON.stringify(line), 'utf8') - 2;

export async function auditExportPart(
  store: AuditRecords,
  request: AuditExportRequest,
): Promise<AuditExportPart> {
  const maxBytes = request.maxBytes ?? MAX_AUDIT_EXPORT_PART_BYTES;
  const lines: string[] = request.format === 'csv' ? [auditExportHeader()] : [];
  let bytes = lines.reduce((sum, line) => sum + responseBytes(line), 0);
  let records = 0;
  let after = request.after;
  for (;;) {
    const page = await store.query(request.tenantId, {
      from: request.from,
      to: request.to,
      limit: Math.min(STORE_PAGE, request.maxRecords - records),
      after,
      oldestFirst: true,
    });
    for (const record of page.items) {
      const line = auditExportLine(record, request.format);
      const cost = responseBytes(line);
      // A part always carries one record, however large (an audit record is bounded far below).
      if (records > 0 && bytes + cost > maxBytes) return done(lines, records, after ?? null);
      lines.push(line);
      bytes += cost;
      records++;
      after = auditSortKey(record);
      if (records >= request.maxRecords) {
        const more = page.items.at(-1) !== record || page.nextSk !== null;
        return done(lines, records, more ? after : null);
      }
    }
    if (page.nextSk === null) return done(lines, records, null);
    after = page.nextSk;
  }
}

const done = (lines: string[], records: number, nextSk: string | null): AuditExportPart => ({
  text: lines.join(''),
  records,
  nextSk,
});

const DAY_MS = 86_400_000;
/** The range an export covers unless it names one. */
export const AUDIT_EXPORT_DEFAULT_DAYS = 30;

const instant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
/** A part's cursor: the range the export was started with, and the sort key to resume after. */
const exportCursor = z.tuple([
  z.literal('auditExport'),
  instant,
  instant,
  z.string().regex(/^\d{4}-\d{2}-\d{2}T[0-9:.]+Z#[A-Za-z0-9-]{1,64}$/),
]);

const invalid = (path: string, code: string, message: string) =>
  new ValidationFailed(message, { details: [{ location: 'query', path, code, message }] });

/**
 * The range and resume point of a part. A first part's range is the query's, its open ends
 * filled in (`to` now, `from` 30 days before `to`), and must run forwards. A later part's is
 * the cursor's, so following `next` links never shifts the range while now moves on; a `from`
 * or `to` sent with a cursor must be the cursor's own.
 */
export function exportRangeOf(
  query: {
    readonly from?: string | undefined;
    readonly to?: string | undefined;
    readonly cursor?: string | undefined;
  },
  now: Date = new Date(),
): { from: string; to: string; after: string | undefined } {
  const iso = (text: string) => new Date(text).toISOString();
  const asked = { from: query.from && iso(query.from), to: query.to && iso(query.to) };
  const cursor = decodeCursor(exportCursor, query.cursor);
  if (cursor) {
    const [, from, to, after] = cursor;
    if ((asked.from && asked.from !== from) || (asked.to && asked.to !== to)) {
      throw invalid('cursor', 'invalid_cursor', 'The cursor belongs to another range');
    }
    if (from > to || after < from || after > `${to}#~`) {
      throw invalid('cursor', 'invalid_cursor', 'Not a cursor of this export');
    }
    return { from, to, after };
  }
  const to = asked.to ?? now.toISOString();
  const from = asked.from ?? new Date(Date.parse(to) - AUDIT_EXPORT_DEFAULT_DAYS * DAY_MS).toISOString();
  if (from > to) throw invalid('from', 'invalid_range', '`from` must not be after `to`');
  return { from, to, after: undefined };
}

/** The cursor of the part after one that ended at `nextSk`. */
export const nextExportCursor = (range: { from: string; to: string }, nextSk: string) =>
  encodeCursor(['auditExport', range.from, range.to, nextSk]);
