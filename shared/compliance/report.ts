import {
  COMPLIANCE_THRESHOLDS,
  type ComplianceCheck,
  type ComplianceFacts,
  type ComplianceMember,
  complianceChecks,
  type DatabaseStorage,
  type PrivilegedChange,
} from '#shared/compliance/checks';
import type { DataProtectionSettings } from '#shared/compliance/data-protection';
import type { ComplianceQueries } from '#shared/control/compliance-queries';
import type { DatabaseRegistry } from '#shared/control/database-registry';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { mapBounded } from '#shared/core/bounded-concurrency';
import { DEFAULT_PLAN_SETTINGS, effectiveLimits, type PlanSettings } from '#shared/domain/plans';
import { NotFound } from '#shared/errors';
import type { AuditRecords } from '#shared/records/stores';

/**
 * The audit actions that change who may do what in a tenant (the routes' actions,
 * shared/records/audit-actions.ts; test/unit/compliance.test.ts holds each to its route): a
 * member's role (ownership changes are role changes to or from `owner`), invitations, removals,
 * custom role edits and assignments, and the tenant's parent (which decides inherited access).
 */
export const PRIVILEGED_ACTIONS = [
  'members.invite',
  'members.changeRole',
  'members.remove',
  'roles.create',
  'roles.replace',
  'roles.delete',
  'roles.assign',
  'roles.unassign',
  'parent.setTenant',
] as const;

/** The most privileged changes a report lists (newest first); more make it say so. */
export const MAX_PRIVILEGED_CHANGES = 200;
/**
 * Pages of the privileged-changes query: each examines at most 2,000 records (AuditStore.query),
 * so at most 50,000 records of the window are looked at; a busier log makes the list incomplete.
 */
export const MAX_PRIVILEGED_PAGES = 25;
/** Pages of audit records (each up to 1 MB read) counted for `audit.records`: a bound on the work. */
export const MAX_AUDIT_COUNT_PAGES = 20;

/**
 * Owners and admins whose second factor is looked up: one Cognito AdminGetUser each, at most
 * MFA_LOOKUPS_IN_FLIGHT at a time, so a report stays well inside the pool's per-category request
 * rate quotas (https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html) and the
 * route's time; the members beyond it, and any lookup that fails, have no `mfa` (cannot say).
 */
export const MAX_MFA_LOOKUPS = 100;
const MFA_LOOKUPS_IN_FLIGHT = 4;

const DAY_MS = 86_400_000;

export interface ComplianceDeps {
  readonly tenants: Pick<TenantRepository, 'get'>;
  readonly databases: Pick<DatabaseRegistry, 'ofTenant'>;
  readonly queries: Pick<ComplianceQueries, 'members' | 'stalePendingInvitations' | 'latestCompletedBackup'>;
  readonly audit: AuditRecords;
  readonly plans?: PlanSettings | undefined;
  readonly dataProtection: DataProtectionSettings;
  /**
   * Whether a user has a second factor (the user pool's AdminGetUser, the `memberMfaStatus` need).
   * @default - none: no member has `mfa`
   */
  readonly mfa?: ((userId: string) => Promise<boolean>) | undefined;
}

export interface ComplianceReport {
  readonly generatedAt: string;
  readonly tenant: {
    readonly id: string;
    readonly name: string;
    readonly status: string;
    readonly plan: string;
  };
  readonly thresholds: typeof COMPLIANCE_THRESHOLDS;
  readonly checks: ComplianceCheck[];
  readonly access: {
    readonly members: Omit<ComplianceMember, 'joinedAt'>[];
    readonly membersComplete: boolean;
    readonly privilegedChanges: readonly PrivilegedChange[];
    readonly privilegedChangesComplete: boolean;
  };
  readonly data: {
    readonly databases: {
      databaseId: string;
      cluster: string | null;
      region: string | null;
      encrypted: boolean;
    }[];
    readonly backups: { readonly latestCompletedAt?: string; readonly retentionDays?: number };
  };
  readonly audit: {
    readonly retentionDays: number;
    readonly records: number;
    readonly window: { readonly from: string; readonly to: string };
    /** False when the tenant has more records in the window than the report counted. */
    readonly complete: boolean;
  };
}

const iso = (value: string) => new Date(value).toISOString();

async function privilegedChanges(
  audit: AuditRecords,
  tenantId: string,
  range: { from: string; to: string },
): Promise<{ items: PrivilegedChange[]; complete: boolean }> {
  const items: PrivilegedChange[] = [];
  let after: string | undefined;
  // Each page examines a bounded number of records (AuditStore.query); a tenant with a busy log takes
  // a few pages, each resuming where the last stopped, up to MAX_PRIVILEGED_PAGES.
  for (let pages = 1; ; pages++) {
    const page = await audit.query(tenantId, {
      ...range,
      actions: PRIVILEGED_ACTIONS,
      limit: Math.min(100, MAX_PRIVILEGED_CHANGES + 1 - items.length),
      ...(after ? { after } : {}),
    });
    for (const record of page.items) {
      if (record.outcome !== 'success') continue;
      items.push({
        at: record.at,
        action: record.action,
        userId: record.userId,
        resource: record.resource,
        details: record.details ?? {},
      });
    }
    if (items.length > MAX_PRIVILEGED_CHANGES)
      return { items: items.slice(0, MAX_PRIVILEGED_CHANGES), complete: false };
    if (!page.nextSk) return { items, complete: true };
    if (pages >= MAX_PRIVILEGED_PAGES) return { items, complete: false };
    after = page.nextSk;
  }
}

/** `mfa` on the first MAX_MFA_LOOKUPS owners and admins; a failed lookup leaves it absent. */
async function withMfa(
  members: readonly ComplianceMember[],
  mfa: ComplianceDeps['mfa'],
): Promise<ComplianceMember[]> {
  if (!mfa) return [...members];
  const privileged = [
    ...new Set(members.filter((m) => m.role === 'owner' || m.role === 'admin').map((m) => m.userId)),
  ].slice(0, MAX_MFA_LOOKUPS);
  const found = new Map(
    await mapBounded(privileged, MFA_LOOKUPS_IN_FLIGHT, async (userId) => {
      const has = await mfa(userId).catch(() => undefined);
      return [userId, has] as const;
    }),
  );
  return members.map((m) => {
    const has = found.get(m.userId);
    return has === undefined ? m : { ...m, mfa: has };
  });
}

/**
 * The tenant's compliance report: who has access, what changed it lately, where its data is and
 * how it is protected, how its audit trail is kept — and the checks decided on those facts.
 * Bounded work whatever the tenant's size: members in keyset pages up to MAX_COMPLIANCE_MEMBERS,
 * privileged changes up to MAX_PRIVILEGED_CHANGES, audit records counted over MAX_AUDIT_COUNT_PAGES.
 */
export async function complianceReport(
  deps: ComplianceDeps,
  tenantId: string,
  now: Date = new Date(),
): Promise<ComplianceReport> {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  const window = {
    from: new Date(now.getTime() - COMPLIANCE_THRESHOLDS.privilegedChangeDays * DAY_MS).toISOString(),
    to: now.toISOString(),
  };
  const staleBefore = new Date(now.getTime() - COMPLIANCE_THRESHOLDS.pendingInvitationDays * DAY_MS);
  const [members, invitations, databases, latestBackup, changes, count] = await Promise.all([
    deps.queries.members(tenantId),
    deps.queries.stalePendingInvitations(tenantId, staleBefore),
    deps.databases.ofTenant(tenantId),
    deps.queries.latestCompletedBackup(tenantId),
    privilegedChanges(deps.audit, tenantId, window),
    deps.audit.count(tenantId, window, MAX_AUDIT_COUNT_PAGES, now),
  ]);
  const memberFacts = await withMfa(
    members.items.map((m) => ({
      userId: m.userId,
      email: m.email,
      role: m.role,
      joinedAt: iso(m.joinedAt),
      ...(m.inheritedFrom ? { inheritedFrom: m.inheritedFrom } : {}),
      ...(m.lastSignInAt ? { lastSignInAt: iso(m.lastSignInAt) } : {}),
    })),
    deps.mfa,
  );
  const storage: DatabaseStorage[] = databases
    .filter((d) => d.status !== 'deleted')
    .map((d) => {
      const cluster = d.clusterId === null ? undefined : deps.dataProtection.clusters[d.clusterId];
      return {
        databaseId: d.id,
        cluster: d.clusterId,
        region: cluster?.region ?? null,
        encrypted: cluster?.encrypted ?? false,
        engine: cluster?.engine ?? null,
      };
    });
  const limits = effectiveLimits(deps.plans ?? DEFAULT_PLAN_SETTINGS, tenant.plan, tenant.planOverrides);
  const backups = {
    ...(latestBackup ? { latestCompletedAt: iso(latestBackup) } : {}),
    retentionDays: limits.backupRetentionDays,
  };
  const facts: ComplianceFacts = {
    now,
    members: memberFacts,
    stalePendingInvitations: {
      count: invitations.count,
      oldest: invitations.oldest.map((i) => ({ ...i, createdAt: iso(i.createdAt) })),
    },
    privilegedChanges: changes.items,
    privilegedChangesComplete: changes.complete,
    databases: storage,
    backups,
    auditRetentionDays: deps.dataProtection.auditRetentionDays,
  };
  return {
    generatedAt: now.toISOString(),
    tenant: { id: tenant.id, name: tenant.name, status: tenant.status, plan: tenant.plan },
    thresholds: COMPLIANCE_THRESHOLDS,
    checks: complianceChecks(facts),
    access: {
      members: memberFacts.map(({ joinedAt: _joinedAt, ...member }) => member),
      membersComplete: members.complete,
      privilegedChanges: changes.items,
      privilegedChangesComplete: changes.complete,
    },
    data: {
      databases: storage.map(({ engine: _engine, ...database }) => database),
      backups,
    },
    audit: {
      retentionDays: deps.dataProtection.auditRetentionDays,
      records: count.records,
      window,
      complete: count.complete,
    },
  };
}
