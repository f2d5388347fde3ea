import type { AnalyticsStore } from '#shared/records/analytics-store';
import type { AuditStore } from '#shared/records/audit-store';
import type { MetricsStore } from '#shared/records/metrics-store';
import type { RecordBatchWriter } from '#shared/records/record-batch';
import type { UsageStore } from '#shared/records/usage-store';

/** The record stores' methods: what a handler may call, made before their module is imported. */
export type AuditRecords = Pick<AuditStore, 'query' | 'count'>;
export type UsageRecords = Pick<
  UsageStore,
  'dailyRollups' | 'monthTotals' | 'rawRecords' | 'reconcileDay' | 'seedRawRecords'
>;
export type MetricRecords = Pick<MetricsStore, 'hours'>;
export type RecordBatches = Pick<RecordBatchWriter, 'write'>;
export type AnalyticsRecords = Pick<
  AnalyticsStore,
  'month' | 'activeUsers' | 'putSnapshot' | 'setTenantUsage' | 'seed'
>;
