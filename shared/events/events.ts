import * as z from 'zod';
import { LIMIT_NAMES } from '#shared/domain/plans';
import { EventCatalog } from '#shared/events/catalog';

export const catalog = new EventCatalog();

const isoTimestamp = z.iso.datetime({ offset: true });

export const TenantRegistered = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Registered',
  description: 'A tenant was registered and its provisioning started.',
  schema: z.object({ tenantId: z.string(), name: z.string(), ownerUserId: z.string(), at: isoTimestamp }),
});

export const TenantProvisioned = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Provisioned',
  description: 'A tenant database, role and secret exist and the tenant is active.',
  schema: z.object({ tenantId: z.string(), databaseId: z.string(), at: isoTimestamp }),
});

export const TenantProvisioningFailed = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Provisioning Failed',
  description: 'Provisioning failed and was compensated: nothing of it is left.',
  schema: z.object({ tenantId: z.string(), reason: z.string(), at: isoTimestamp }),
});

export const TenantOffboarded = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Offboarded',
  description: "The tenant's databases, role, secret and memberships were removed.",
  schema: z.object({ tenantId: z.string(), at: isoTimestamp }),
});

const statusChange = z.object({
  tenantId: z.string(),
  reason: z.string(),
  /** The platform admin who changed the status. */
  byUserId: z.string(),
  at: isoTimestamp,
});

export const TenantSuspended = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Suspended',
  description: "A platform admin suspended the tenant: its members' calls are refused and not billed.",
  schema: statusChange,
});

export const TenantResumed = catalog.register({
  source: 'tenantry.tenants',
  detailType: 'Tenant Resumed',
  description: 'A platform admin resumed a suspended tenant: its members have access again.',
  schema: statusChange,
});

export const AuditRecord = catalog.register({
  source: 'tenantry.api',
  detailType: 'Audit Record',
  description: 'A mutating request and its outcome.',
  schema: z.object({
    tenantId: z.string().nullable(),
    userId: z.string(),
    action: z.string(),
    resource: z.string(),
    outcome: z.enum(['success', 'denied', 'failed']),
    statusCode: z.number().int(),
    requestId: z.string(),
    at: isoTimestamp,
    details: z.record(z.string(), z.unknown()).default({}),
  }),
});

export const UsageRecorded = catalog.register({
  source: 'tenantry.usage',
  detailType: 'Usage Recorded',
  description: 'A metered quantity for a tenant.',
  schema: z.object({
    tenantId: z.string(),
    resourceType: z.string().regex(/^[a-z][a-z0-9_]{1,40}$/),
    quantity: z.number().nonnegative(),
    unit: z.string(),
    at: isoTimestamp,
  }),
});

export const MetricSample = catalog.register({
  source: 'tenantry.api',
  detailType: 'Metric Sample',
  description: 'Latency and status of one request.',
  schema: z.object({
    tenantId: z.string().nullable(),
    operationId: z.string(),
    statusCode: z.number().int(),
    latencyMs: z.number().nonnegative(),
    at: isoTimestamp,
    /** The signed-in caller (the token's sub); absent for anonymous requests. Counts active users. */
    userId: z.string().min(1).max(128).optional(),
  }),
});

/**
 * The records of one API request in one entry: one EventBridge entry per request instead of one
 * per record (EventBridge bills each entry, and each entry was a consumer invocation). The records
 * keep the schemas of the per-record events above, which stay in the catalog: the storage snapshot
 * still publishes `Usage Recorded`, and the batch consumer takes all four.
 */
export const RequestRecorded = catalog.register({
  source: 'tenantry.api',
  detailType: 'Request Recorded',
  description:
    "One API request's records: its audit record when it mutates, its billable usage when a tenant was authorised, and its metric sample.",
  schema: z.object({
    requestId: z.string(),
    audit: AuditRecord.schema.optional(),
    usage: UsageRecorded.schema.optional(),
    metric: MetricSample.schema,
  }),
});

export const ModuleEnabled = catalog.register({
  source: 'tenantry.modules',
  detailType: 'Module Enabled',
  description:
    "A module's tables were created or brought up to date in a tenant database, and it is enabled there.",
  schema: z.object({
    tenantId: z.string(),
    databaseId: z.string(),
    moduleId: z.string(),
    version: z.number().int(),
    at: isoTimestamp,
  }),
});

export const ModuleDisabled = catalog.register({
  source: 'tenantry.modules',
  detailType: 'Module Disabled',
  description: 'A module was disabled in a tenant database; its data was kept unless dataDropped.',
  schema: z.object({
    tenantId: z.string(),
    databaseId: z.string(),
    moduleId: z.string(),
    dataDropped: z.boolean(),
    at: isoTimestamp,
  }),
});

export const ModuleUpgradeFinished = catalog.register({
  source: 'tenantry.modules',
  detailType: 'Module Upgrade Finished',
  description: 'A module upgrade went through every wave; counts of upgraded and failed databases.',
  schema: z.object({
    upgradeId: z.string(),
    moduleId: z.string(),
    toVersion: z.number().int(),
    upgraded: z.number().int(),
    failed: z.number().int(),
    at: isoTimestamp,
  }),
});

/**
 * A tenant's use of a limit of its plan reached 80 % or 100 % of it (issue 15): published once
 * per tenant, limit, threshold and period (the month for `apiCallsPerMonth`; for a counted
 * resource, the limit's value: raising or lowering it starts a new period). Recorded in the
 * tenant's audit log; a platform team routes it to email or chat with a rule of its own.
 */
export const QuotaThresholdReached = catalog.register({
  source: 'tenantry.quotas',
  detailType: 'Quota Threshold Reached',
  description: "A tenant's use of one of its plan's limits reached 80 % or 100 % of the limit.",
  schema: z.object({
    tenantId: z.string(),
    plan: z.string(),
    quota: z.enum(LIMIT_NAMES),
    threshold: z.union([z.literal(80), z.literal(100)]),
    limit: z.number().int().nonnegative(),
    used: z.number().int().nonnegative(),
    /** `YYYY-MM` for a monthly limit; `limit=<n>` for a counted resource. */
    period: z.string().min(1).max(64),
    at: isoTimestamp,
  }),
});

export type EventDetail<D> = D extends { schema: infer S extends z.ZodType } ? z.infer<S> : never;
