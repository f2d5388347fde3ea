/** The sizes of the telemetry events as the code builds them, for the cost model (cost-model.ts). */
import { AuditRecord, MetricSample, RequestRecorded, UsageRecorded } from '#shared/events/events';
import { type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import { MAX_DETAILS_BYTES } from '#shared/records/redaction';

const SAMPLE_TENANT = 't_abcdefghijklmnopqrst';
const SAMPLE_AT = '2026-12-02T10:15:30.123Z';
const SAMPLE_REQUEST = '5f0c2a9e-6b1d-4c47-9a43-1f2e3d4c5b6a';

const sampleAudit = (details: Record<string, unknown>) => ({
  tenantId: SAMPLE_TENANT,
  userId: '8d3f1c2b-4a5e-4f60-9b7c-0d1e2f3a4b5c',
  action: 'rows.create',
  resource: `/tenants/${SAMPLE_TENANT}/databases/main/tables/orders/rows`,
  outcome: 'success' as const,
  statusCode: 201,
  requestId: SAMPLE_REQUEST,
  at: SAMPLE_AT,
  details,
});

/** A row insert of eight fields: what an average mutating request records. */
const TYPICAL_DETAILS = {
  method: 'POST',
  operationId: 'createRow',
  body: {
    values: {
      order_id: 'ORD-2026-000123',
      customer: 'Example Trading Ltd',
      status: 'confirmed',
      total: 1234.5,
      currency: 'EUR',
      placed_at: SAMPLE_AT,
      lines: 3,
      notes: 'deliver to the loading bay',
    },
  },
};

const sampleUsage = {
  tenantId: SAMPLE_TENANT,
  resourceType: 'api_calls',
  quantity: 1,
  unit: 'calls',
  at: SAMPLE_AT,
};
const sampleMetric = {
  tenantId: SAMPLE_TENANT,
  operationId: 'createRow',
  statusCode: 201,
  latencyMs: 42,
  at: SAMPLE_AT,
};

/** The bytes of an entry as EventBridge delivers it (the envelope and the detail). */
export function deliveredBytes(event: OutgoingEvent): number {
  return Buffer.byteLength(
    JSON.stringify({
      version: '0',
      id: SAMPLE_REQUEST,
      'detail-type': event.detailType,
      source: event.source,
      account: '123456789012',
      time: SAMPLE_AT,
      region: 'us-east-1',
      resources: [],
      detail: event.detail,
    }),
    'utf8',
  );
}

export interface EventSizes {
  readonly audit: number;
  readonly usage: number;
  readonly metric: number;
  /** `Request Recorded` of a mutating request (audit, usage, metric). */
  readonly requestMutating: number;
  /** `Request Recorded` of a read (usage, metric). */
  readonly requestRead: number;
  /** The largest `Request Recorded`: details at their cap. */
  readonly requestLargest: number;
}

export function eventSizes(): EventSizes {
  const capped = {
    method: 'POST',
    operationId: 'createRow',
    body: { blob: 'x'.repeat(MAX_DETAILS_BYTES - 80) },
  };
  const request = (audit?: ReturnType<typeof sampleAudit>) =>
    deliveredBytes(
      outgoing(RequestRecorded, {
        requestId: SAMPLE_REQUEST,
        ...(audit ? { audit } : {}),
        usage: sampleUsage,
        metric: sampleMetric,
      }),
    );
  return {
    audit: deliveredBytes(outgoing(AuditRecord, sampleAudit(TYPICAL_DETAILS))),
    usage: deliveredBytes(outgoing(UsageRecorded, sampleUsage)),
    metric: deliveredBytes(outgoing(MetricSample, sampleMetric)),
    requestMutating: request(sampleAudit(TYPICAL_DETAILS)),
    requestRead: request(),
    requestLargest: request(sampleAudit(capped)),
  };
}
