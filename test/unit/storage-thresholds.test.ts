import { describe, expect, it } from 'vitest';
import { DEFAULT_PLAN_SETTINGS } from '#shared/domain/plans';
import type { OutgoingEvent, PublishResult } from '#shared/ports/event-publisher';
import type { SqlParams, SqlRunner } from '#shared/ports/sql';
import { announceStorageThresholds } from '#shared/tenancy/storage-thresholds';

/**
 * The storage limit's thresholds (issue 15), announced by the storage snapshot job: every
 * threshold the measured bytes reached, once per period (`limit=<n>`), with its audit record; a
 * tenant whose plan cannot be read is skipped without failing the others.
 */

const TENANT = 't_aaaaaaaaaaaaaaaaaaaa';
const OTHER = 't_bbbbbbbbbbbbbbbbbbbb';

function fakes(overrides: Record<string, Record<string, number>>) {
  const claims = new Set<string>();
  const control = {
    query: async (_sql: string, params?: SqlParams) => {
      const tenantId = String(params?.tenantId);
      return tenantId in overrides ? [{ plan: 'free', planOverrides: overrides[tenantId] }] : [];
    },
    execute: async (_sql: string, params: SqlParams = {}) => {
      const key = [params.tenantId, params.quota, params.threshold, params.period].join('|');
      if (claims.has(key)) return 0;
      claims.add(key);
      return 1;
    },
  } as unknown as SqlRunner;
  const published: OutgoingEvent[] = [];
  const events = {
    publish: async (batch: readonly OutgoingEvent[]): Promise<PublishResult> => {
      published.push(...batch);
      return { failed: [] };
    },
  };
  return { published, deps: { control, events, settings: { plans: DEFAULT_PLAN_SETTINGS } } };
}

describe('storage thresholds', () => {
  it('announces each threshold the measure reached, once per period, and skips a tenant without a plan', async () => {
    const { published, deps } = fakes({ [TENANT]: { storageBytes: 1_000 } });
    const measure = (bytes: number) => [
      { tenantId: TENANT, databases: 1, bytes },
      { tenantId: OTHER, databases: 1, bytes: 10 },
    ];

    expect(await announceStorageThresholds(deps, measure(500))).toBe(0);
    expect(await announceStorageThresholds(deps, measure(850))).toBe(1);
    expect(await announceStorageThresholds(deps, measure(900))).toBe(0);
    // A jump past both at once announces the one not yet announced.
    expect(await announceStorageThresholds(deps, measure(1_200))).toBe(1);
    expect(await announceStorageThresholds(deps, measure(1_300))).toBe(0);

    const thresholds = published.filter((event) => event.detailType === 'Quota Threshold Reached');
    expect(thresholds.map((event) => event.detail)).toEqual([
      expect.objectContaining({
        tenantId: TENANT,
        quota: 'storageBytes',
        threshold: 80,
        limit: 1_000,
        used: 850,
        period: 'limit=1000',
      }),
      expect.objectContaining({
        tenantId: TENANT,
        quota: 'storageBytes',
        threshold: 100,
        limit: 1_000,
        used: 1_200,
      }),
    ]);
    const audits = published.filter((event) => event.detailType === 'Audit Record');
    expect(audits.map((event) => (event.detail as { action: string; userId: string }).action)).toEqual([
      'quotas.thresholdReached',
      'quotas.thresholdReached',
    ]);
  });
});
