/**
 * The DynamoDB tables of audit, usage and metrics records. CDK creates them from this and the
 * local platform creates the same ones in its DynamoDB API.
 */
export interface RecordTableSpec {
  readonly id: 'audit' | 'usage' | 'limits';
  /** Environment variable that carries the table name to the functions. */
  readonly envVar: string;
  /** Key attributes; both are strings. */
  readonly partitionKey: 'pk';
  readonly sortKey: 'sk';
  /** Items past this epoch-seconds attribute are expired (filtered on read where TTL is absent). */
  readonly ttlAttribute?: string;
}

export const recordTables = {
  audit: {
    id: 'audit',
    envVar: 'AUDIT_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
  },
  // Usage rollups and raw records never expire; the per-event ledger entries of metric samples do.
  usage: {
    id: 'usage',
    envVar: 'USAGE_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
  },
  // Each tenant's request-rate state and API calls of a month (issue 15): one item a tenant and
  // month, updated once per request; a month's item expires a few months after it ended.
  limits: {
    id: 'limits',
    envVar: 'LIMITS_TABLE_NAME',
    partitionKey: 'pk',
    sortKey: 'sk',
    ttlAttribute: 'expiresAt',
  },
} as const satisfies Record<string, RecordTableSpec>;
