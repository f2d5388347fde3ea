import type { Need } from '#shared/domain/needs';

/**
 * Which consumer handles which events. CDK makes one EventBridge rule per subscription (with a
 * dead-letter queue and an alarm); the local bus routes the same way to the same handlers.
 */
export interface EventSubscription {
  /** PascalCase, unique: names the rule, its queue and its function. */
  readonly name: string;
  readonly detailTypes: readonly string[];
  /** Entry point under `functions/`, without extension. */
  readonly handler: string;
  /** What the consumer reaches (shared/routes/needs.ts): the CDK app grants exactly this. */
  readonly needs: readonly Need[];
}

export const subscriptions: readonly EventSubscription[] = [
  {
    name: 'RecordAudit',
    detailTypes: ['Audit Record'],
    handler: 'events/record-audit',
    needs: ['auditRecordsWrite'],
  },
  {
    name: 'RecordUsage',
    detailTypes: ['Usage Recorded'],
    handler: 'events/record-usage',
    needs: ['usageRecordsWrite'],
  },
  // Metric samples live in the usage table (MetricsStore).
  {
    name: 'RecordMetric',
    detailTypes: ['Metric Sample'],
    handler: 'events/record-metric',
    needs: ['usageRecordsWrite'],
  },
];
