/** What an idle deployment and an idle tenant cost a month (cost-model.ts has the per-request part). */

import { type Assumptions, HOURS_PER_MONTH, SECONDS_PER_MONTH } from '#infra/local/cost/assumptions';
import {
  BYTES_PER_GB,
  DAYS_PER_MONTH,
  gb,
  lambdaGbSecondPrice,
  retentionMonths,
} from '#infra/local/cost/cost-model';
import type { Deployment } from '#infra/local/cost/deployment';
import type { EventSizes } from '#infra/local/cost/event-sizes';
import { costOf } from '#infra/local/cost/prices';

export interface MonthlyItem {
  readonly item: string;
  /** How much of it the deployment has, where that varies (its capacity, its count). */
  readonly quantity?: string;
  readonly usdPerMonth: number;
  /** A second figure where the model gives a range (the upper end). */
  readonly upTo?: number;
  readonly note?: string;
}

/** What a deployment with no requests pays in a month. */
export function idleDeploymentCost(deployment: Deployment, assumptions: Assumptions): MonthlyItem[] {
  const receivesPerPoller = SECONDS_PER_MONTH / assumptions.longPollSeconds;
  const polls = (pollers: number) =>
    costOf('sqsStandardRequests', deployment.queueConsumers * pollers * receivesPerPoller);
  return [
    {
      item: 'Aurora Serverless v2 at its minimum capacity',
      quantity: `${deployment.auroraMinAcu} ACU`,
      usdPerMonth: costOf('auroraServerlessV2AcuHour', deployment.auroraMinAcu * HOURS_PER_MONTH),
      note: 'at 0 ACU the cluster pauses; the first request after a pause answers 503 `database_resuming`',
    },
    {
      item: `empty receives of the queue consumers (${assumptions.idlePollers}–${assumptions.pollers} pollers each)`,
      quantity: `${deployment.queueConsumers} consumer(s)`,
      usdPerMonth: polls(assumptions.idlePollers),
      upTo: polls(assumptions.pollers),
      note: 'new with the queue: before, the rules invoked the consumers and nothing polled',
    },
    {
      item: 'CloudWatch alarms',
      quantity: `${deployment.alarms}`,
      usdPerMonth: costOf('cloudWatchAlarmMonth', deployment.alarms),
    },
    {
      item: 'secrets of the templates',
      quantity: `${deployment.templateSecrets}`,
      usdPerMonth: costOf('secretsManagerSecretMonth', deployment.templateSecrets),
    },
    {
      item: 'schedules (at most daily)',
      quantity: `${deployment.schedules}`,
      usdPerMonth: costOf(
        'eventBridgeSchedulerInvocations',
        deployment.schedules * Math.ceil(DAYS_PER_MONTH),
      ),
    },
  ];
}

/** What one tenant with no requests costs in a month: its secret, its storage, its daily snapshot. */
export function idleTenantCost(deployment: Deployment, assumptions: Assumptions, sizes: EventSizes) {
  const databases = assumptions.databasesPerTenant;
  const events = 2 * DAYS_PER_MONTH; // storage_bytes and databases, every day
  const batch = deployment.recordsConsumer.batchSize; // the snapshot publishes every tenant at once
  const archivedGb = (events * sizes.usage) / BYTES_PER_GB;
  const snapshotGbSeconds =
    DAYS_PER_MONTH * databases * gb(deployment.storageSnapshot) * (assumptions.snapshotMsPerDatabase / 1000);
  const items: MonthlyItem[] = [
    { item: `${databases} tenant secret(s)`, usdPerMonth: costOf('secretsManagerSecretMonth', databases) },
    {
      item: `storage of ${databases} empty database(s) (${assumptions.emptyTenantDatabaseMb} MB each)`,
      usdPerMonth: costOf('auroraStorageGbMonth', (databases * assumptions.emptyTenantDatabaseMb) / 1024),
    },
    {
      // The job runs once a day for every tenant: a tenant adds its databases' share of the duration.
      item: 'daily snapshot: storage job Lambda (its duration per database)',
      usdPerMonth: costOf(lambdaGbSecondPrice(deployment.storageSnapshot.architecture), snapshotGbSeconds),
    },
    {
      item: 'daily snapshot: 2 Usage Recorded entries (and archive)',
      usdPerMonth:
        costOf('eventBridgeCustomEvents', events) +
        costOf('eventBridgeArchiveIngest', archivedGb) +
        costOf('eventBridgeArchiveStorage', archivedGb * retentionMonths(deployment)),
    },
    {
      item: 'daily snapshot: SQS (send; receives and deletes of ten)',
      usdPerMonth: costOf('sqsStandardRequests', events * (deployment.rulesPerUsageEntry + 0.1 + 0.1)),
    },
    {
      item: 'daily snapshot: consumer Lambda',
      usdPerMonth:
        costOf('lambdaRequests', events / batch) +
        costOf(
          lambdaGbSecondPrice(deployment.recordsConsumer.architecture),
          events *
            gb(deployment.recordsConsumer) *
            ((assumptions.consumerBatchMs / batch + assumptions.consumerMsPerEvent) / 1000),
        ),
    },
    {
      // Per event a claim; per tenant, day and resource type a rollup (each is its own aggregate).
      item: 'daily snapshot: DynamoDB writes (2 claims, 2 rollups a day)',
      usdPerMonth: costOf('dynamoDbOnDemandWrites', events * (1 + 1 + 1 / batch)),
    },
  ];
  return {
    items,
    total: items.reduce((sum, item) => sum + item.usdPerMonth, 0),
    unpriced: {
      dataApiCalls: DAYS_PER_MONTH * (databases + 1 / assumptions.snapshotListPageSize),
      assumeRoleCalls: DAYS_PER_MONTH * databases,
    },
  };
}
