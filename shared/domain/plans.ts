import * as z from 'zod';
import { DEFAULT_ISOLATION, type Isolation, isolationSchema } from '#shared/domain/isolation';

/**
 * Plans (issue 15): each a set of per-tenant limits. The catalogue is platform configuration: the
 * defaults below, overridable per deployment (CDK context `plans` / `defaultPlan`, the local
 * platform's config) and handed to the functions as `TENANT_PLANS`. Every limit is a
 * non-negative integer: there is no "unlimited", a platform that wants one sets a large number.
 */

export const LIMIT_NAMES = [
  'requestsPerSecond',
  'burst',
  'apiCallsPerMonth',
  'databases',
  'tablesPerDatabase',
  'members',
  'customRoles',
  'storageBytes',
  'backupRetentionDays',
] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
export type Limits = Readonly<Record<LimitName, number>>;

/**
 * Limits whose use is counted (`GET …/quotas` reports their usage); the rate limits are not, nor
 * `backupRetentionDays`, which is how long a completed backup is kept (shared/backups/retention.ts).
 */
export const COUNTED_LIMITS = [
  'apiCallsPerMonth',
  'databases',
  'tablesPerDatabase',
  'members',
  'customRoles',
  'storageBytes',
] as const satisfies readonly LimitName[];
export type CountedLimit = (typeof COUNTED_LIMITS)[number];

/** A plan's name: lower-case, as it appears in the API and the finance exports. */
export const PLAN_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Overrides of one tenant: a limit name with its own value (a plan change keeps them). */
export type LimitOverrides = Readonly<Partial<Record<LimitName, number>>>;

const GIB = 1024 ** 3;

/** The plans every deployment has unless it configures others. */
export const DEFAULT_PLANS: Readonly<Record<string, Limits>> = {
  free: {
    requestsPerSecond: 10,
    burst: 20,
    apiCallsPerMonth: 100_000,
    databases: 2,
    tablesPerDatabase: 25,
    members: 10,
    customRoles: 5,
    storageBytes: 1 * GIB,
    // A week of daily backups: enough to undo last week's mistake, and little to store for free.
    backupRetentionDays: 7,
  },
  standard: {
    requestsPerSecond: 50,
    burst: 100,
    apiCallsPerMonth: 2_000_000,
    databases: 10,
    tablesPerDatabase: 100,
    members: 100,
    customRoles: 25,
    storageBytes: 20 * GIB,
    // A month: a paying tenant can go back past a month-end close.
    backupRetentionDays: 30,
  },
  premium: {
    requestsPerSecond: 200,
    burst: 400,
    apiCallsPerMonth: 20_000_000,
    databases: 50,
    tablesPerDatabase: 500,
    members: 1_000,
    customRoles: 100,
    storageBytes: 200 * GIB,
    // A quarter: the window audits and "what did it look like last quarter" ask for.
    backupRetentionDays: 90,
  },
};

export const DEFAULT_PLAN = 'free';

/** The plans of a deployment and the one a new tenant gets. */
export interface PlanSettings {
  readonly plans: Readonly<Record<string, Limits>>;
  readonly defaultPlan: string;
  /** Each plan's isolation (docs/isolation-modes.md); a plan not named here is `silo`. */
  readonly isolation?: Readonly<Record<string, Isolation>>;
}

/** The isolation a tenant on `plan` gets: the plan's, or `silo`. */
export const isolationOf = (settings: PlanSettings, plan: string): Isolation =>
  settings.isolation?.[plan] ?? DEFAULT_ISOLATION;

export const DEFAULT_PLAN_SETTINGS: PlanSettings = { plans: DEFAULT_PLANS, defaultPlan: DEFAULT_PLAN };

/** The longest retention a plan or an override may give: ten years of daily backups. */
export const MAX_BACKUP_RETENTION_DAYS = 3650;

const limitValue = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/**
 * Each limit's values. Retention is at least a day (0 would delete a backup as soon as it is
 * made: a tenant that wants no backups is not what a retention says) and at most ten years.
 */
const limitValueOf = (name: LimitName) =>
  name === 'backupRetentionDays' ? z.number().int().min(1).max(MAX_BACKUP_RETENTION_DAYS) : limitValue;
const limitsSchema = z.strictObject(
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitValueOf(name)])) as Record<
    LimitName,
    typeof limitValue
  >,
);
/** Overrides as stored and as sent (`null` drops one, only in a request). */
export const limitOverridesSchema = z.strictObject(
  Object.fromEntries(LIMIT_NAMES.map((name) => [name, limitValueOf(name).optional()])) as Record<
    LimitName,
    z.ZodOptional<typeof limitValue>
  >,
);

/**
 * The configured catalogue: `{ "plans": { name: { limit: n, …, isolation? } | partial of a default
 * plan }, "defaultPlan": name }`, both optional. A plan named like a default one may give only the limits
 * it changes; a new plan gives all of them. The default plan must be in the catalogue.
 */
export const planConfigSchema = z
  .strictObject({
    plans: z
      .record(
        z.string().regex(PLAN_NAME_PATTERN, 'a lower-case plan name'),
        // Its limits, and the isolation its tenants get (`silo` unless it says `pool`).
        limitOverridesSchema.extend({ isolation: isolationSchema.optional() }),
      )
      .optional(),
    defaultPlan: z.string().regex(PLAN_NAME_PATTERN, 'a lower-case plan name').optional(),
  })
  .transform((config, context): PlanSettings => {
    const plans: Record<string, Limits> = { ...DEFAULT_PLANS };
    const isolation: Record<string, Isolation> = {};
    for (const [name, { isolation: mode, ...limits }] of Object.entries(config.plans ?? {})) {
      if (mode) isolation[name] = mode;
      const merged = limitsSchema.safeParse({ ...DEFAULT_PLANS[name], ...limits });
      if (!merged.success) {
        context.addIssue({
          code: 'custom',
          path: ['plans', name],
          message: `plan ${name} must give every limit (${LIMIT_NAMES.join(', ')})`,
        });
        return z.NEVER;
      }
      plans[name] = merged.data;
    }
    const defaultPlan = config.defaultPlan ?? DEFAULT_PLAN;
    if (!plans[defaultPlan]) {
      context.addIssue({ code: 'custom', path: ['defaultPlan'], message: `no plan ${defaultPlan}` });
      return z.NEVER;
    }
    return Object.keys(isolation).length > 0 ? { plans, defaultPlan, isolation } : { plans, defaultPlan };
  });

/** The catalogue from `TENANT_PLANS` (JSON), or the defaults when it is unset or empty. */
export function planSettingsFrom(json: string | undefined): PlanSettings {
  if (json === undefined || json.trim() === '') return DEFAULT_PLAN_SETTINGS;
  return planConfigSchema.parse(JSON.parse(json));
}

/** `TENANT_PLANS` as a configuration field: a malformed catalogue fails the cold start, named. */
export const tenantPlansField = z
  .string()
  .optional()
  .transform((json, context) => {
    try {
      return planSettingsFrom(json);
    } catch (error) {
      const message =
        error instanceof z.ZodError
          ? error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')
          : 'not JSON';
      context.addIssue({ code: 'custom', message: `invalid plan catalogue (${message})` });
      return z.NEVER;
    }
  });

/**
 * A tenant's limits: its plan's, with its overrides on top. A plan the catalogue no longer has
 * (a deployment removed it) counts as the default plan, so a tenant is never without limits.
 */
export function effectiveLimits(
  settings: PlanSettings,
  plan: string,
  overrides: LimitOverrides = {},
): Limits {
  const base = settings.plans[plan] ?? (settings.plans[settings.defaultPlan] as Limits);
  const limits = { ...base };
  for (const name of LIMIT_NAMES) {
    const value = overrides[name];
    if (value !== undefined) limits[name] = value;
  }
  return limits;
}

/**
 * `PUT /tenants/{tenantId}/plan`: the plan's name (whether the catalogue has it is checked against
 * the deployment's catalogue) and overrides to merge into the tenant's: a limit name with a
 * non-negative integer, or `null` to drop that override. A limit name not in LIMIT_NAMES is a 400.
 */
export const planChangeSchema = z.strictObject({
  plan: z.string().regex(PLAN_NAME_PATTERN, 'a lower-case plan name'),
  overrides: z
    .strictObject(
      Object.fromEntries(
        LIMIT_NAMES.map((name) => [name, limitValueOf(name).nullable().optional()]),
      ) as Record<LimitName, z.ZodOptional<z.ZodNullable<typeof limitValue>>>,
    )
    .optional(),
});
export type PlanChange = z.infer<typeof planChangeSchema>;

/** The tenant's overrides with a change merged in: a value replaces, `null` drops. */
export function mergeOverrides(
  current: LimitOverrides,
  change: Readonly<Partial<Record<LimitName, number | null>>> = {},
): LimitOverrides {
  const merged: Partial<Record<LimitName, number>> = {};
  for (const name of LIMIT_NAMES) {
    const sent = change[name];
    const value = sent === undefined ? current[name] : sent;
    if (typeof value === 'number') merged[name] = value;
  }
  return merged;
}
