import type { AuditStore } from '#shared/records/audit-store';
import type { MetricsStore } from '#shared/records/metrics-store';
import type { UsageStore } from '#shared/records/usage-store';

/** The record stores' methods: what a handler may call, made before their module is imported. */
export type AuditRecords = Pick<AuditStore, 'record' | 'query'>;
export type UsageRecords = Pick<
  UsageStore,
  'record' | 'dailyRollups' | 'monthTotals' | 'rawRecords' | 'reconcileDay' | 'seedRawRecords'
>;
export type MetricRecords = Pick<MetricsStore, 'record' | 'hours'>;
