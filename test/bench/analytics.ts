import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LocalClient } from '#infra/local/client';
import { addMonths } from '#shared/exports/months';
import { analyticsKeys } from '#shared/records/analytics-keys';
import { AnalyticsStore } from '#shared/records/analytics-store';
import { BUCKET_COUNT, bucketAttribute } from '#shared/records/latency-histogram';
import { type Actor, newActor } from '../support/actors.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { median, percentile, round } from './stats.ts';

/**
 * Figure 16 (issue 19, "Measured"): `GET /platform/analytics` over 12 months of a fleet of 10,000
 * tenants, against reading the same rollup items straight from the table: the same twelve
 * partition Queries and twelve active-user COUNTs, four months at a time as the handler does, from
 * the benchmark's process. Both are timed in the same run, alternating. The rollups are seeded
 * with BatchWriteItem (AnalyticsStore.seed), not through the bus.
 */

type Progress = (line: string) => void;

export interface AnalyticsBenchOptions {
  readonly tenants: number;
  readonly months: number;
  /** Active users seeded per month (one item each, counted, never listed). */
  readonly activeUsers: number;
  readonly runs: number;
}

/** The last `count` closed months before the current one, oldest first. */
function closedMonths(count: number): string[] {
  const current = new Date().toISOString().slice(0, 7);
  return Array.from({ length: count }, (_, index) => addMonths(current, index - count));
}

const tenantIdOf = (index: number) => `t_bench${String(index).padStart(12, '0')}`;

/** A month's partition: every tenant's item, the fleet's and the close's snapshot; plus its active users. */
function monthItems(month: string, monthIndex: number, options: AnalyticsBenchOptions) {
  const items: Record<string, unknown>[] = [];
  let apiCalls = 0;
  for (let index = 0; index < options.tenants; index++) {
    const calls = ((index * 7919 + monthIndex * 104_729) % 50_000) + 1;
    const requests = calls + (index % 13);
    apiCalls += calls;
    items.push({
      ...analyticsKeys.tenant(month, tenantIdOf(index)),
      tenantId: tenantIdOf(index),
      apiCalls: calls,
      requests,
      errors: index % 17 === 0 ? Math.floor(requests / 50) : 0,
      storageBytes: ((index * 31 + monthIndex) % 1000) * 1_048_576,
    });
  }
  const buckets = Object.fromEntries(
    Array.from({ length: BUCKET_COUNT }, (_, bucket) => [
      bucketAttribute(bucket),
      bucket > 10 && bucket < 40 ? 1000 : 0,
    ]),
  );
  items.push({ ...analyticsKeys.fleet(month), requests: 29_000, errors: 120, ...buckets });
  items.push({
    ...analyticsKeys.snapshot(month),
    byStatus: { active: options.tenants - 100, suspended: 100 },
    byPlan: { free: options.tenants / 2, pro: options.tenants / 2 },
    byIsolation: { silo: options.tenants / 4, pool: (options.tenants * 3) / 4 },
    at: `${addMonths(month, 1)}-01T00:05:00.000Z`,
  });
  for (let user = 0; user < options.activeUsers; user++) {
    items.push(analyticsKeys.activeUser(month, `u_bench${user}`));
  }
  return { items, apiCalls };
}

const timed = async (work: () => Promise<void>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

/** Like the handler: `limit` months at a time. */
async function inBatches<T>(months: readonly string[], limit: number, work: (month: string) => Promise<T>) {
  const out: T[] = [];
  for (let start = 0; start < months.length; start += limit) {
    out.push(...(await Promise.all(months.slice(start, start + limit).map(work))));
  }
  return out;
}

export async function measureAnalytics(
  work: string,
  options: AnalyticsBenchOptions,
  progress: Progress,
): Promise<Figure[]> {
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'analytics-')));
  const client = new LocalClient(platform.info);
  const dynamo = new DynamoDBClient({
    region: platform.info.region,
    endpoint: platform.info.endpoints.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const store = new AnalyticsStore(dynamo, platform.info.tables.usage);
  try {
    const months = closedMonths(options.months);
    const expected = new Map<string, number>();
    for (const [index, month] of months.entries()) {
      const { items, apiCalls } = monthItems(month, index, options);
      await store.seed(items);
      expected.set(month, apiCalls);
      progress(
        `analytics: seeded ${month} (${items.length.toLocaleString('en')} items), ${index + 1} of ${months.length}`,
      );
    }
    const finance: Actor = await newActor(client, 'bench-finance', { groups: ['finance'] });
    const from = months[0] as string;
    const to = months[months.length - 1] as string;

    const throughApi = async () => {
      const response = await finance.call('GET', `/platform/analytics?from=${from}&to=${to}`);
      const body = response.body as {
        months?: { month: string; apiCalls: number; top: { apiCalls: unknown[] } }[];
      };
      if (response.status !== 200 || body.months?.length !== months.length) {
        throw new Error(`analytics: ${response.status}, ${body.months?.length} months`);
      }
      for (const month of body.months) {
        if (month.apiCalls !== expected.get(month.month) || month.top.apiCalls.length !== 10) {
          throw new Error(
            `analytics: ${month.month} has ${month.apiCalls} api calls, seeded ${expected.get(month.month)}`,
          );
        }
      }
    };
    const direct = async () => {
      const read = await inBatches(months, 4, async (month) => {
        const [partition, activeUsers] = await Promise.all([store.month(month), store.activeUsers(month)]);
        return { tenants: partition.tenants.length, activeUsers };
      });
      if (
        read.some((month) => month.tenants !== options.tenants || month.activeUsers !== options.activeUsers)
      ) {
        throw new Error(`analytics: read ${JSON.stringify(read)}`);
      }
    };
    await throughApi();
    await direct();
    progress(`analytics: warmed up; ${options.runs} runs of each, alternating`);
    const api: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      if (i % 2 === 0) {
        api.push(await timed(throughApi));
        reads.push(await timed(direct));
      } else {
        reads.push(await timed(direct));
        api.push(await timed(throughApi));
      }
      progress(
        `analytics: run ${i + 1}: API ${round(api[i] ?? 0)} ms, direct reads ${round(reads[i] ?? 0)} ms`,
      );
    }
    const ratio = median(api) / median(reads);
    progress(
      `analytics: API p50 ${round(median(api))} ms, direct reads ${round(median(reads))} ms (${round(ratio, 2)}×)`,
    );
    const fleet = `${options.tenants.toLocaleString('en')} tenants × ${options.months} months`;
    return [
      {
        group: '16. Platform analytics',
        name: `GET /platform/analytics over ${fleet} of rollups, p50`,
        value: round(median(api)),
        unit: 'ms',
        baseline: {
          name: `the same rollup items read directly (${options.months} partition Queries and ${options.months} COUNTs, 4 months at a time)`,
          value: round(median(reads)),
        },
        ratio: round(ratio, 2),
        note: `${options.runs} runs each, alternating; p95 ${round(percentile(api, 95))} vs ${round(percentile(reads, 95))} ms; ${options.activeUsers.toLocaleString('en')} active users a month. The API also runs the control-database census, sorts three top-10 lists a month and serialises the JSON`,
      },
    ];
  } finally {
    dynamo.destroy();
    client.close();
    await platform.stop();
  }
}
