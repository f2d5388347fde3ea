import * as z from 'zod';
import { AuditRecord, catalog, RequestRecorded, UsageRecorded } from '#shared/events/events';

/**
 * The audit archive for analysts (docs/audit-archive.md): every audit and usage record also lands
 * in S3 as one JSON line, under `records/tenant=<tenant>/date=<YYYY-MM-DD>/`, gzip-compressed, so
 * that Athena can query across tenants. This module is the one description of which events become
 * which lines and where they go: the CDK app makes its EventBridge rules, input transformers and
 * Firehose partitioning from it (infra/constructs/audit-archive.ts), and the local platform's
 * archive writer applies the same functions (infra/local/audit-archive.ts). Tests run the JQ query
 * and the rendered transformers against `archivedLinesOf` on the same events.
 */

/** Where the lines go in the archive bucket (Firehose's `Prefix` starts with it). */
export const ARCHIVE_RECORDS_PREFIX = 'records/';
/** What Firehose could not partition or deliver; `!{firehose:error-output-type}` says why. */
export const ARCHIVE_ERRORS_PREFIX = 'errors/';

/** The tenant partition of platform-level audit records (`tenantId: null`); tenant ids start with `t_`. */
export const PLATFORM_PARTITION = '_platform';

/** Firehose's S3 prefix: one partition per tenant and day of the record's `at`. */
export const ARCHIVE_DATA_PREFIX = `${ARCHIVE_RECORDS_PREFIX}tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/`;
export const ARCHIVE_ERROR_PREFIX = `${ARCHIVE_ERRORS_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/`;

/**
 * The metadata extraction of Firehose's dynamic partitioning, over one archived line (JQ 1.6).
 * `partitionOf` is the same in TypeScript; test/unit/audit-archive.test.ts runs both on fixtures.
 */
export const PARTITION_JQ_QUERY = `{tenant: (.tenantId // "${PLATFORM_PARTITION}"), date: (.at[0:10])}`;

export const archiveKinds = ['audit', 'usage'] as const;
export type ArchiveKind = (typeof archiveKinds)[number];

/**
 * One archived line. `eventId` is the EventBridge event's id: a request's audit and usage lines
 * share it (one `Request Recorded` entry), so (`eventId`, `kind`) identifies a line, and a
 * duplicate delivery (EventBridge and Firehose are both at least once) repeats both.
 */
export const archivedLineSchema = z.object({
  eventId: z.string(),
  kind: z.enum(archiveKinds),
  tenantId: z.string().nullable(),
  at: z.string(),
  requestId: z.string().nullable(),
  record: z.record(z.string(), z.unknown()),
});
export type ArchivedLine = z.infer<typeof archivedLineSchema>;

/**
 * One rule of the archive: which event it matches and where in the detail its record is. A rule
 * whose record is nested (`recordPath` not empty) also requires the record's `requiredField`
 * (EventBridge's `exists` only matches leaves:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html).
 */
export interface ArchiveRule {
  /** PascalCase, unique: names the rule. */
  readonly name: string;
  readonly source: string;
  readonly detailType: string;
  readonly kind: ArchiveKind;
  /** Path of the record under `detail` (empty: the detail is the record). */
  readonly recordPath: readonly string[];
  /** A field every record of the kind has (its schema requires it). */
  readonly requiredField: string;
  /** Path of the request id under `detail`, or null where the event has none. */
  readonly requestIdPath: readonly string[] | null;
}

const rule = (
  name: string,
  definition: { source: string; detailType: string },
  kind: ArchiveKind,
  recordPath: readonly string[],
  requestIdPath: readonly string[] | null,
): ArchiveRule => ({
  name,
  source: definition.source,
  detailType: catalog.get(definition.detailType).detailType,
  kind,
  recordPath,
  requiredField: kind === 'audit' ? 'requestId' : 'tenantId',
  requestIdPath,
});

/**
 * A request's audit record and its usage arrive in one `Request Recorded` event; two rules (one per
 * record) make them two lines, without a Lambda processor: Firehose cannot split one record into
 * two itself. Metric samples are not archived.
 */
export const archiveRules: readonly ArchiveRule[] = [
  rule('ArchiveRequestAudit', RequestRecorded, 'audit', ['audit'], ['requestId']),
  rule('ArchiveRequestUsage', RequestRecorded, 'usage', ['usage'], ['requestId']),
  rule('ArchiveAuditRecord', AuditRecord, 'audit', [], ['requestId']),
  rule('ArchiveUsageRecorded', UsageRecorded, 'usage', [], null),
];

/** JSONPath of a field under `detail`, as the input transformer names it. */
export const detailPath = (path: readonly string[]) => ['$', 'detail', ...path].join('.');

/** The event as the archive sees it: EventBridge's envelope. */
export interface ArchivedEvent {
  readonly id: string;
  readonly source: string;
  readonly 'detail-type': string;
  readonly detail: unknown;
}

function at(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The rule's line of an event, or undefined where its pattern does not match. */
export function archivedLineOf(archiveRule: ArchiveRule, event: ArchivedEvent): ArchivedLine | undefined {
  if (event.source !== archiveRule.source || event['detail-type'] !== archiveRule.detailType)
    return undefined;
  const record = at(event.detail, archiveRule.recordPath);
  if (typeof record !== 'object' || record === null) return undefined;
  const fields = record as Record<string, unknown>;
  if (archiveRule.recordPath.length > 0 && fields[archiveRule.requiredField] === undefined) return undefined;
  const requestId = archiveRule.requestIdPath ? at(event.detail, archiveRule.requestIdPath) : null;
  return archivedLineSchema.parse({
    eventId: event.id,
    kind: archiveRule.kind,
    tenantId: fields.tenantId ?? null,
    at: fields.at,
    requestId: requestId ?? null,
    record: fields,
  });
}

/** Every line an event becomes: one per matching rule (none for events the archive does not keep). */
export function archivedLinesOf(event: ArchivedEvent): ArchivedLine[] {
  return archiveRules.flatMap((archiveRule) => archivedLineOf(archiveRule, event) ?? []);
}

export interface ArchivePartition {
  readonly tenant: string;
  /** `YYYY-MM-DD` of the record's `at` as written (the platform writes UTC timestamps). */
  readonly date: string;
}

/** `PARTITION_JQ_QUERY` in TypeScript. */
export function partitionOf(line: Pick<ArchivedLine, 'tenantId' | 'at'>): ArchivePartition {
  return { tenant: line.tenantId ?? PLATFORM_PARTITION, date: line.at.slice(0, 10) };
}

/** `ARCHIVE_DATA_PREFIX` with the partition keys filled in, as Firehose evaluates it. */
export function partitionPrefix(partition: ArchivePartition): string {
  return ARCHIVE_DATA_PREFIX.replace('!{partitionKeyFromQuery:tenant}', partition.tenant).replace(
    '!{partitionKeyFromQuery:date}',
    partition.date,
  );
}

/**
 * The Glue table's columns, matching `archivedLineSchema` (the OpenX JSON SerDe matches keys to
 * columns case-insensitively, so `tenantId` fills `tenantid`). `record` holds the union of the
 * audit and usage records' fields; a line has the fields of its kind, the others are null.
 */
export const ARCHIVE_COLUMNS: readonly { readonly name: string; readonly type: string }[] = [
  { name: 'eventid', type: 'string' },
  { name: 'kind', type: 'string' },
  { name: 'tenantid', type: 'string' },
  { name: 'at', type: 'string' },
  { name: 'requestid', type: 'string' },
  {
    name: 'record',
    type:
      'struct<tenantid:string,userid:string,action:string,resource:string,outcome:string,' +
      'statuscode:int,requestid:string,at:string,resourcetype:string,quantity:double,unit:string>',
  },
];

/** The partition columns, in the order of the prefix. */
export const ARCHIVE_PARTITION_KEYS = ['tenant', 'date'] as const;
