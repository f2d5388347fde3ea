/**
 * The fleet analytics aggregates of a batch of claims (docs/analytics.md): one atomic UpdateItem
 * per tenant-month, fleet-month and user-month the batch touches, each tied to its own part of
 * the claims (record-batch-parts.ts), so partial failures and replays stay exact the same way the
 * daily rollups and hourly metrics do.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ANALYTICS_USAGE, analyticsKeys, isAnalyticsUsage } from '#shared/records/analytics-keys';
import { histogramAdds } from '#shared/records/latency-histogram';
import { isError, type MetricDetail } from '#shared/records/metrics-store';
import type { Aggregate, Claim, Part } from '#shared/records/record-batch-parts';
import { monthOf } from '#shared/records/usage-store';

interface Group<T> {
  readonly key: string;
  readonly first: T;
  readonly items: T[];
  readonly members: Claim[];
}

function groupBy<T>(
  claims: readonly Claim[],
  part: Part,
  pick: (claim: Claim) => T | undefined,
  key: (item: T) => string,
) {
  const groups = new Map<string, Group<T>>();
  for (const claim of claims) {
    const item = pick(claim);
    if (item === undefined || !claim.parts.includes(part)) continue;
    const id = key(item);
    const group = groups.get(id) ?? { key: id, first: item, items: [], members: [] };
    group.items.push(item);
    group.members.push(claim);
    groups.set(id, group);
  }
  return [...groups.values()];
}

const errorsOf = (samples: readonly MetricDetail[]) =>
  samples.filter((sample) => isError(sample.statusCode)).length;

/** Every analytics aggregate the claims add to, for the usage table `table`. */
export function analyticsAggregatesOf(table: string, claims: readonly Claim[]): Aggregate[] {
  const aggregates: Aggregate[] = [];
  const usage = groupBy(
    claims,
    'monthUsage',
    (claim) => claim.entry.usage,
    (record) => `${record.tenantId}|${monthOf(record.at)}|${record.resourceType}`,
  );
  for (const { first, items, members } of usage) {
    if (!isAnalyticsUsage(first.resourceType)) continue;
    const attribute = ANALYTICS_USAGE[first.resourceType];
    const base = {
      TableName: table,
      Key: analyticsKeys.tenant(monthOf(first.at), first.tenantId),
      ExpressionAttributeNames: { '#v': attribute },
    };
    if (attribute === 'apiCalls') {
      const quantity = items.reduce((sum, record) => sum + record.quantity, 0);
      aggregates.push({
        part: 'monthUsage',
        members,
        update: () =>
          new UpdateCommand({
            ...base,
            UpdateExpression: 'SET tenantId = :tenant ADD #v :q',
            ExpressionAttributeValues: { ':tenant': first.tenantId, ':q': quantity },
          }),
      });
    } else {
      // The month's storage is its peak, like the daily gauge rollups: a lower value is no change.
      const peak = Math.max(...items.map((record) => record.quantity));
      aggregates.push({
        part: 'monthUsage',
        members,
        peak: true,
        update: () =>
          new UpdateCommand({
            ...base,
            UpdateExpression: 'SET tenantId = :tenant, #v = :q',
            ConditionExpression: 'attribute_not_exists(#v) OR #v < :q',
            ExpressionAttributeValues: { ':tenant': first.tenantId, ':q': peak },
          }),
      });
    }
  }
  const tenantMetrics = groupBy(
    claims,
    'monthMetric',
    (claim) => claim.entry.metric,
    (sample) => `${sample.tenantId ?? ''}|${monthOf(sample.at)}`,
  );
  for (const { first, items, members } of tenantMetrics) {
    const tenantId = first.tenantId ?? '';
    aggregates.push({
      part: 'monthMetric',
      members,
      update: () =>
        new UpdateCommand({
          TableName: table,
          Key: analyticsKeys.tenant(monthOf(first.at), tenantId),
          UpdateExpression: 'SET tenantId = :tenant ADD requests :n, #errors :e',
          ExpressionAttributeNames: { '#errors': 'errors' },
          ExpressionAttributeValues: { ':tenant': tenantId, ':n': items.length, ':e': errorsOf(items) },
        }),
    });
  }
  const fleet = groupBy(
    claims,
    'fleetMetric',
    (claim) => claim.entry.metric,
    (sample) => monthOf(sample.at),
  );
  for (const { first, items, members } of fleet) {
    const histogram = histogramAdds(items.map((sample) => sample.latencyMs));
    const names = { '#errors': 'errors', ...histogram.names };
    const values = { ':n': items.length, ':e': errorsOf(items), ...histogram.values };
    const adds = ['requests :n', '#errors :e', ...histogram.adds];
    aggregates.push({
      part: 'fleetMetric',
      members,
      update: () =>
        new UpdateCommand({
          TableName: table,
          Key: analyticsKeys.fleet(monthOf(first.at)),
          UpdateExpression: `ADD ${adds.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
    });
  }
  const users = groupBy(
    claims,
    'activeUser',
    (claim) => claim.entry.metric,
    (sample) => `${monthOf(sample.at)}|${sample.userId ?? ''}`,
  );
  for (const { first, members } of users) {
    const userId = first.userId ?? '';
    aggregates.push({
      part: 'activeUser',
      members,
      // Idempotent: the user was active in the month, however often it is said.
      update: () =>
        new UpdateCommand({
          TableName: table,
          Key: analyticsKeys.activeUser(monthOf(first.at), userId),
          UpdateExpression: 'SET userId = :user',
          ExpressionAttributeValues: { ':user': userId },
        }),
    });
  }
  return aggregates;
}
