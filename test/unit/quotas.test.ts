import { describe, expect, it } from 'vitest';
import { InvalidPlansError, MAX_TENANT_PLANS_BYTES, tenantPlansFromContext } from '#infra/plans-context';
import { DEFAULT_PLANS, mergeOverrides, planChangeSchema, planSettingsFrom } from '#shared/domain/plans';
import { QuotaExceeded } from '#shared/errors';
import type { OutgoingEvent, PublishResult } from '#shared/ports/event-publisher';
import type { SqlParams, SqlRunner } from '#shared/ports/sql';
import {
  announceThresholds,
  THRESHOLD_AUDIT_ACTION,
  thresholdCount,
  thresholdsCrossed,
} from '#shared/tenancy/quota-thresholds';
import { assertRoomForOne, meteredUsageFrom, type QuotaUse } from '#shared/tenancy/quotas';

describe('counted quotas', () => {
  it('refuse one more only when the count already fills the limit (a lowered limit may be below it)', () => {
    expect(() => assertRoomForOne('databases', 2, 1)).not.toThrow();
    for (const [limit, used] of [
      [2, 2],
      [1, 3],
      [0, 0],
    ] as const) {
      let thrown: unknown;
      try {
        assertRoomForOne('databases', limit, used);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(QuotaExceeded);
      expect(thrown).toMatchObject({
        statusCode: 403,
        code: 'quota_exceeded',
        details: { quota: 'databases', limit, used },
      });
    }
  });

  it('merge plan overrides: a value replaces, null drops, absent keeps', () => {
    expect(mergeOverrides({ databases: 5, members: 3 }, { members: null, customRoles: 0 })).toEqual({
      databases: 5,
      customRoles: 0,
    });
    expect(mergeOverrides({ databases: 5 })).toEqual({ databases: 5 });
    expect(planChangeSchema.safeParse({ plan: 'free', overrides: { seats: 1 } }).success).toBe(false);
    expect(planChangeSchema.safeParse({ plan: 'free', overrides: { databases: null } }).success).toBe(true);
  });
});

describe('thresholds', () => {
  it('are reached at 80 % (rounded up) and 100 % of the limit, and crossed once on the way up', () => {
    expect([thresholdCount(10, 80), thresholdCount(10, 100)]).toEqual([8, 10]);
    expect([thresholdCount(1, 80), thresholdCount(1, 100)]).toEqual([1, 1]);
    expect([thresholdCount(3, 80), thresholdCount(3, 100)]).toEqual([3, 3]);
    expect(thresholdsCrossed(10, 7, 8)).toEqual([80]);
    expect(thresholdsCrossed(10, 8, 9)).toEqual([]);
    expect(thresholdsCrossed(10, 9, 10)).toEqual([100]);
    expect(thresholdsCrossed(1, 0, 1)).toEqual([80, 100]);
    expect(thresholdsCrossed(0, 0, 1)).toEqual([]);
    expect(thresholdsCrossed(10, 11, 12)).toEqual([]);
  });

  /** A control database that keeps the claims, and a bus that records or refuses. */
  function fakes(refuse: (event: OutgoingEvent) => boolean = () => false) {
    const claims = new Set<string>();
    const keyOf = (params: SqlParams = {}) =>
      [params.tenantId, params.quota, params.threshold, params.period].join('|');
    const control = {
      execute: async (sql: string, params?: SqlParams) => {
        const key = keyOf(params);
        if (sql.startsWith('insert')) {
          if (claims.has(key)) return 0;
          claims.add(key);
          return 1;
        }
        return claims.delete(key) ? 1 : 0;
      },
    } as unknown as SqlRunner;
    const published: OutgoingEvent[] = [];
    const events = {
      publish: async (batch: readonly OutgoingEvent[]): Promise<PublishResult> => {
        const failed = batch
          .filter(refuse)
          .map((event) => ({ event, code: 'InternalFailure', message: 'no' }));
        published.push(...batch.filter((event) => !refuse(event)));
        return { failed };
      },
    };
    return { claims, published, deps: { control, events } };
  }
  const use = (used: number, limit = 5): QuotaUse => ({
    tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
    plan: 'free',
    quota: 'customRoles',
    limit,
    used,
  });
  const actor = { userId: 'u-1', requestId: 'req-1' };

  it('announce a crossing once per period, as Quota Threshold Reached and an audit record', async () => {
    const { deps, published } = fakes();
    const now = new Date('2026-12-03T10:00:00.000Z');
    expect(await announceThresholds(deps, use(4), actor, now)).toEqual([80]);
    // Down and up again: the same period, announced already.
    expect(await announceThresholds(deps, use(4), actor, now)).toEqual([]);
    expect(await announceThresholds(deps, use(5), actor, now)).toEqual([100]);
    // A new limit is a new period.
    expect(await announceThresholds(deps, use(8, 10), actor, now)).toEqual([80]);
    expect(await announceThresholds(deps, null, actor, now)).toEqual([]);
    expect(published.map((event) => event.detailType)).toEqual([
      'Quota Threshold Reached',
      'Audit Record',
      'Quota Threshold Reached',
      'Audit Record',
      'Quota Threshold Reached',
      'Audit Record',
    ]);
    expect(published[0]?.detail).toEqual({
      tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
      plan: 'free',
      quota: 'customRoles',
      threshold: 80,
      limit: 5,
      used: 4,
      period: 'limit=5',
      at: now.toISOString(),
    });
    expect(published[1]?.detail).toMatchObject({
      tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
      userId: 'u-1',
      requestId: 'req-1',
      action: THRESHOLD_AUDIT_ACTION,
      outcome: 'success',
      details: { quota: 'customRoles', threshold: 80, limit: 5, used: 4, period: 'limit=5' },
    });
  });

  it('release the claim when the bus refuses the event, so that the next crossing announces it', async () => {
    let refusing = true;
    const { deps, claims, published } = fakes(
      (event) => refusing && event.detailType === 'Quota Threshold Reached',
    );
    expect(await announceThresholds(deps, use(4), actor)).toEqual([]);
    expect(claims.size).toBe(0);
    refusing = false;
    expect(await announceThresholds(deps, use(4), actor)).toEqual([80]);
    expect(claims.size).toBe(1);
    expect(published.filter((event) => event.detailType === 'Quota Threshold Reached')).toHaveLength(1);
  });

  it('never throw: the creation happened whatever the announcement does', async () => {
    const deps = {
      control: {
        execute: async () => {
          throw new Error('control database down');
        },
      } as unknown as SqlRunner,
      events: { publish: async () => ({ failed: [] }) },
    };
    await expect(announceThresholds(deps, use(5), actor)).resolves.toEqual([]);
  });
});

describe('metered usage for GET …/quotas', () => {
  it("is this UTC month's api_calls and the latest day's storage snapshot", async () => {
    const asked: string[][] = [];
    const rollups = [
      { day: '2026-11-20', resourceType: 'api_calls', quantity: 1_000 },
      { day: '2026-11-30', resourceType: 'storage_bytes', quantity: 900 },
      { day: '2026-12-01', resourceType: 'api_calls', quantity: 7 },
      { day: '2026-12-02', resourceType: 'api_calls', quantity: 5 },
      { day: '2026-12-02', resourceType: 'storage_bytes', quantity: 1_200 },
      { day: '2026-12-01', resourceType: 'storage_bytes', quantity: 1_500 },
      { day: '2026-12-02', resourceType: 'databases', quantity: 2 },
    ];
    const metered = meteredUsageFrom({
      dailyRollups: async (_tenant, from, to) => {
        asked.push([from, to]);
        return rollups;
      },
    });
    expect(await metered('t_x', new Date('2026-12-02T23:59:59.000Z'))).toEqual({
      apiCalls: 12,
      storageBytes: 1_200,
    });
    // One query, from the earlier of the month's start and 31 days back.
    expect(asked).toEqual([['2026-11-01', '2026-12-02']]);
    const none = meteredUsageFrom({ dailyRollups: async () => [] });
    expect(await none('t_x', new Date())).toEqual({ apiCalls: 0, storageBytes: 0 });
  });
});

describe('the CDK context plans', () => {
  it('gives {} without context, and the configured catalogue as the functions read it', () => {
    expect(tenantPlansFromContext(undefined, undefined)).toBe('{}');
    const json = tenantPlansFromContext('{"free":{"databases":3}}', 'standard');
    const settings = planSettingsFrom(json);
    expect(settings.defaultPlan).toBe('standard');
    expect(settings.plans.free).toEqual({ ...DEFAULT_PLANS.free, databases: 3 });
    // cdk.json gives an object rather than a string.
    expect(
      planSettingsFrom(tenantPlansFromContext({ free: { members: 4 } }, undefined)).plans.free?.members,
    ).toBe(4);
  });

  it.each([
    ['plans that are not JSON', '{free', undefined],
    ['an unknown default plan', undefined, 'gold'],
    ['an unknown limit', { free: { seats: 1 } }, undefined],
    ['a new plan missing limits', { trial: { databases: 1 } }, undefined],
    [
      'a catalogue too large for the Lambda environment',
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`plan-${i}`, DEFAULT_PLANS.premium])),
      undefined,
    ],
  ])('fails the synthesis on %s, saying why', (_, plans, defaultPlan) => {
    expect(() => tenantPlansFromContext(plans, defaultPlan)).toThrow(InvalidPlansError);
    expect(MAX_TENANT_PLANS_BYTES).toBeLessThan(4096);
  });
});
