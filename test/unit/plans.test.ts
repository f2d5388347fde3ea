import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { loadConfig } from '#shared/config';
import {
  COUNTED_LIMITS,
  DEFAULT_PLAN_SETTINGS,
  DEFAULT_PLANS,
  effectiveLimits,
  LIMIT_NAMES,
  MAX_BACKUP_RETENTION_DAYS,
  planChangeSchema,
  planSettingsFrom,
  tenantPlansField,
} from '#shared/domain/plans';
import { ConfigError } from '#shared/errors';

describe('the plan catalogue', () => {
  it('has free, standard and premium with every limit a non-negative integer, free by default', () => {
    expect(Object.keys(DEFAULT_PLANS).sort()).toEqual(['free', 'premium', 'standard']);
    for (const limits of Object.values(DEFAULT_PLANS)) {
      expect(Object.keys(limits).sort()).toEqual([...LIMIT_NAMES].sort());
      for (const value of Object.values(limits)) expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
    }
    expect(planSettingsFrom(undefined)).toBe(DEFAULT_PLAN_SETTINGS);
    expect(planSettingsFrom('  ').defaultPlan).toBe('free');
  });

  it('takes a partial change of a default plan, a whole new plan and another default plan', () => {
    // Act
    const settings = planSettingsFrom(
      JSON.stringify({
        plans: {
          free: { databases: 1 },
          trial: { ...DEFAULT_PLANS.standard, apiCallsPerMonth: 5_000 },
        },
        defaultPlan: 'trial',
      }),
    );
    // Assert
    expect(settings.defaultPlan).toBe('trial');
    expect(settings.plans.free).toEqual({ ...DEFAULT_PLANS.free, databases: 1 });
    expect(settings.plans.trial?.apiCallsPerMonth).toBe(5_000);
    expect(settings.plans.premium).toEqual(DEFAULT_PLANS.premium);
  });

  it.each([
    ['a new plan missing limits', { plans: { trial: { databases: 1 } } }],
    ['a default plan not in the catalogue', { defaultPlan: 'gold' }],
    ['a negative limit', { plans: { free: { members: -1 } } }],
    ['a fractional limit', { plans: { free: { members: 1.5 } } }],
    ['an unknown limit', { plans: { free: { seats: 3 } } }],
    ['an upper-case plan name', { plans: { Gold: DEFAULT_PLANS.free } }],
    ['an unknown key', { tiers: {} }],
  ])('refuses %s', (_, config) => {
    expect(() => planSettingsFrom(JSON.stringify(config))).toThrow(z.ZodError);
  });

  it('fails a cold start on a malformed TENANT_PLANS, naming the variable', () => {
    const schema = z.object({ TENANT_PLANS: tenantPlansField });
    expect(loadConfig(schema, {}).TENANT_PLANS).toBe(DEFAULT_PLAN_SETTINGS);
    for (const bad of ['{', JSON.stringify({ defaultPlan: 'gold' })]) {
      let thrown: unknown;
      try {
        loadConfig(schema, { TENANT_PLANS: bad });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toMatch(/TENANT_PLANS: invalid plan catalogue/);
    }
  });
});

describe('effective limits', () => {
  it("are the plan's with the tenant's overrides on top, zero included", () => {
    const limits = effectiveLimits(DEFAULT_PLAN_SETTINGS, 'standard', { databases: 5, customRoles: 0 });
    expect(limits).toEqual({ ...DEFAULT_PLANS.standard, databases: 5, customRoles: 0 });
  });

  it('count a plan the catalogue no longer has as the default plan', () => {
    expect(effectiveLimits(DEFAULT_PLAN_SETTINGS, 'retired')).toEqual(DEFAULT_PLANS.free);
    expect(effectiveLimits(DEFAULT_PLAN_SETTINGS, 'retired', { members: 2 }).members).toBe(2);
  });
});

describe('backup retention (backupRetentionDays)', () => {
  it('is a week on free, a month on standard, a quarter on premium, and not a counted limit', () => {
    expect(DEFAULT_PLANS.free?.backupRetentionDays).toBe(7);
    expect(DEFAULT_PLANS.standard?.backupRetentionDays).toBe(30);
    expect(DEFAULT_PLANS.premium?.backupRetentionDays).toBe(90);
    expect(COUNTED_LIMITS as readonly string[]).not.toContain('backupRetentionDays');
  });

  it('may be configured per plan and overridden per tenant, a null override dropping it', () => {
    const settings = planSettingsFrom(JSON.stringify({ plans: { free: { backupRetentionDays: 14 } } }));
    expect(settings.plans.free?.backupRetentionDays).toBe(14);
    expect(effectiveLimits(settings, 'free', { backupRetentionDays: 400 }).backupRetentionDays).toBe(400);
    expect(planChangeSchema.parse({ plan: 'free', overrides: { backupRetentionDays: null } })).toEqual({
      plan: 'free',
      overrides: { backupRetentionDays: null },
    });
  });

  it.each([
    ['zero days', 0],
    ['more than ten years', MAX_BACKUP_RETENTION_DAYS + 1],
    ['a fraction of a day', 1.5],
    ['a string', '30'],
  ])('refuses %s, in the catalogue and in a plan change', (_, value) => {
    expect(() =>
      planSettingsFrom(JSON.stringify({ plans: { free: { backupRetentionDays: value } } })),
    ).toThrow(z.ZodError);
    expect(
      planChangeSchema.safeParse({ plan: 'free', overrides: { backupRetentionDays: value } }).success,
    ).toBe(false);
  });
});
