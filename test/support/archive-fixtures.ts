import type { ArchivedEvent } from '#shared/records/audit-archive';

/**
 * Events the audit archive sees, one of each shape: a request with both records, one with usage
 * only, one with neither, a platform-level audit record, a storage snapshot's usage, a metric.
 */
const tenantId = 't_abcdefghijklmnopqrst';
const metric = {
  tenantId,
  operationId: 'listTables',
  statusCode: 200,
  latencyMs: 12,
  at: '2026-12-04T10:00:00.000Z',
};
const audit = {
  tenantId,
  userId: 'u_1',
  action: 'table.create',
  resource: `tenants/${tenantId}/tables/orders`,
  outcome: 'success',
  statusCode: 201,
  requestId: 'req-1',
  at: '2026-12-04T10:00:00.000Z',
  details: { table: 'orders' },
};
const usage = {
  tenantId,
  resourceType: 'api_call',
  quantity: 1,
  unit: 'count',
  at: '2026-12-04T10:00:00.000Z',
};

export const archiveFixtures: Record<string, ArchivedEvent> = {
  requestWithBoth: {
    id: 'e-both',
    source: 'tenantry.api',
    'detail-type': 'Request Recorded',
    detail: { requestId: 'req-1', audit, usage, metric },
  },
  requestWithUsage: {
    id: 'e-usage',
    source: 'tenantry.api',
    'detail-type': 'Request Recorded',
    detail: { requestId: 'req-2', usage: { ...usage, at: '2026-12-05T00:00:01.000Z' }, metric },
  },
  requestWithNeither: {
    id: 'e-none',
    source: 'tenantry.api',
    'detail-type': 'Request Recorded',
    detail: { requestId: 'req-3', metric: { ...metric, tenantId: null } },
  },
  platformAudit: {
    id: 'e-platform',
    source: 'tenantry.api',
    'detail-type': 'Audit Record',
    detail: { ...audit, tenantId: null, action: 'tenant.suspend', requestId: 'req-4' },
  },
  snapshotUsage: {
    id: 'e-snapshot',
    source: 'tenantry.usage',
    'detail-type': 'Usage Recorded',
    detail: { ...usage, resourceType: 'storage_bytes', quantity: 4096, unit: 'bytes' },
  },
  metricSample: { id: 'e-metric', source: 'tenantry.api', 'detail-type': 'Metric Sample', detail: metric },
  otherSource: {
    id: 'e-other',
    source: 'someone.else',
    'detail-type': 'Usage Recorded',
    detail: usage,
  },
};
