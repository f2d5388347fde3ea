import type { BuiltInRole } from '#shared/domain/permissions';

/**
 * The compliance report's checks (docs/compliance.md): pure functions of the facts the report
 * gathered, so that each one is tested over fixtures that pass and fixtures that fail.
 */

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** Every threshold a check applies, stated in the report and in docs/compliance.md. */
export const COMPLIANCE_THRESHOLDS = {
  /** A pending invitation older than this fails `invitations-fresh`. */
  pendingInvitationDays: 30,
  /** An owner or admin not signed in for this long fails `admins-active`. */
  adminInactiveDays: 90,
  /** Privileged changes are listed for this window (and audit records counted in it). */
  privilegedChangeDays: 30,
  /** The latest completed backup must be younger than this (when there is one). */
  backupMaxAgeHours: 48,
  /** Audit retention shorter than this warns (a year is what auditors commonly ask for). */
  auditRetentionRecommendedDays: 365,
} as const;

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface ComplianceCheck {
  readonly id: string;
  readonly title: string;
  readonly status: CheckStatus;
  /** What the status was decided on, in words an auditor can verify against the report's sections. */
  readonly evidence: string;
}

export interface ComplianceMember {
  readonly userId: string;
  readonly email: string;
  readonly role: BuiltInRole;
  /** The ancestor tenant whose membership gives this role (inherited access). */
  readonly inheritedFrom?: string;
  /** The latest sign-in recorded (since migration 16); absent when none was. */
  readonly lastSignInAt?: string;
  /** When the membership began: a member who never signed in is judged from here. */
  readonly joinedAt: string;
  /**
   * Whether the user has a second factor in the user pool; looked up for owners and admins only
   * (up to MAX_MFA_LOOKUPS), absent when the report cannot say.
   */
  readonly mfa?: boolean;
}

export interface StalePendingInvitation {
  readonly email: string;
  readonly role: BuiltInRole;
  readonly createdAt: string;
}

export interface PrivilegedChange {
  readonly at: string;
  readonly action: string;
  /** Who made the change. */
  readonly userId: string;
  readonly resource: string;
  readonly details: Record<string, unknown>;
}

export interface DatabaseStorage {
  readonly databaseId: string;
  readonly cluster: string | null;
  readonly region: string | null;
  readonly encrypted: boolean;
  /** The cluster's engine as configured; null when the cluster is not in the configuration. */
  readonly engine: string | null;
}

export interface ComplianceFacts {
  readonly now: Date;
  readonly members: readonly ComplianceMember[];
  readonly stalePendingInvitations: {
    readonly count: number;
    readonly oldest: readonly StalePendingInvitation[];
  };
  readonly privilegedChanges: readonly PrivilegedChange[];
  /** False when there were more privileged changes than the report lists. */
  readonly privilegedChangesComplete: boolean;
  readonly databases: readonly DatabaseStorage[];
  readonly backups: { readonly latestCompletedAt?: string; readonly retentionDays?: number };
  /** Null when the deployment does not say. */
  readonly auditRetentionDays: number | null;
}

const days = (ms: number) => Math.floor(ms / DAY_MS);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const list = (items: readonly string[], max = 5) =>
  items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;

export function ownerPresent(facts: Pick<ComplianceFacts, 'members'>): ComplianceCheck {
  const base = { id: 'owner-present', title: 'At least one owner' } as const;
  const own = facts.members.filter((m) => m.role === 'owner' && m.inheritedFrom === undefined);
  const inherited = facts.members.filter((m) => m.role === 'owner' && m.inheritedFrom !== undefined);
  if (own.length > 0) {
    return {
      ...base,
      status: 'pass',
      evidence: `${plural(own.length, 'owner')}: ${list(own.map((m) => m.email))}`,
    };
  }
  if (inherited.length > 0) {
    return {
      ...base,
      status: 'warn',
      evidence: `No owner of its own; ${plural(inherited.length, 'owner')} through an ancestor tenant: ${list(
        inherited.map((m) => `${m.email} (from ${m.inheritedFrom})`),
      )}`,
    };
  }
  return { ...base, status: 'fail', evidence: 'No member has the owner role' };
}

export function invitationsFresh(facts: Pick<ComplianceFacts, 'stalePendingInvitations'>): ComplianceCheck {
  const base = {
    id: 'invitations-fresh',
    title: `No pending invitation older than ${COMPLIANCE_THRESHOLDS.pendingInvitationDays} days`,
  } as const;
  const { count, oldest } = facts.stalePendingInvitations;
  if (count === 0) {
    return {
      ...base,
      status: 'pass',
      evidence: `No pending invitation was sent more than ${COMPLIANCE_THRESHOLDS.pendingInvitationDays} days ago`,
    };
  }
  return {
    ...base,
    status: 'fail',
    evidence: `${plural(count, 'pending invitation')} older than ${COMPLIANCE_THRESHOLDS.pendingInvitationDays} days (revoke or resend): ${list(
      oldest.map((i) => `${i.email} as ${i.role}, sent ${i.createdAt}`),
    )}`,
  };
}

/**
 * Owners and admins (the roles that manage access) who have not signed in for the threshold. A
 * member with no recorded sign-in is judged from their joining: recording began with migration
 * 16, so one who joined long ago and has not signed in since is a warning, not a failure.
 */
export function adminsActive(facts: Pick<ComplianceFacts, 'members' | 'now'>): ComplianceCheck {
  const limit = COMPLIANCE_THRESHOLDS.adminInactiveDays;
  const base = { id: 'admins-active', title: `No owner or admin inactive for ${limit} days` } as const;
  const cutoff = facts.now.getTime() - limit * DAY_MS;
  const privileged = facts.members.filter((m) => m.role === 'owner' || m.role === 'admin');
  const inactive = privileged.filter(
    (m) => m.lastSignInAt !== undefined && Date.parse(m.lastSignInAt) < cutoff,
  );
  const unknown = privileged.filter((m) => m.lastSignInAt === undefined && Date.parse(m.joinedAt) < cutoff);
  if (inactive.length > 0) {
    return {
      ...base,
      status: 'fail',
      evidence: `${plural(inactive.length, 'owner or admin', 'owners or admins')} last signed in more than ${limit} days ago: ${list(
        inactive.map(
          (m) =>
            `${m.email} (${m.role}, ${days(facts.now.getTime() - Date.parse(m.lastSignInAt as string))} days)`,
        ),
      )}`,
    };
  }
  if (unknown.length > 0) {
    return {
      ...base,
      status: 'warn',
      evidence: `No sign-in recorded for ${plural(unknown.length, 'owner or admin', 'owners or admins')} who joined more than ${limit} days ago: ${list(
        unknown.map((m) => `${m.email} (${m.role})`),
      )}`,
    };
  }
  return {
    ...base,
    status: 'pass',
    evidence: `All ${plural(privileged.length, 'owner or admin', 'owners and admins')} signed in (or joined) within ${limit} days`,
  };
}

/**
 * Owners and admins (who manage access) with a second factor. The user pool's MFA is optional by
 * product decision (members invited by email sign in before they enrol), so a privileged member
 * without one is a warning for the tenant to act on, as is one the pool could not be asked about.
 */
export function privilegedMfa(facts: Pick<ComplianceFacts, 'members'>): ComplianceCheck {
  const base = { id: 'privileged-mfa', title: 'Owners and admins have a second factor' } as const;
  const privileged = facts.members.filter((m) => m.role === 'owner' || m.role === 'admin');
  const without = privileged.filter((m) => m.mfa === false);
  const unknown = privileged.filter((m) => m.mfa === undefined);
  const said = [
    without.length > 0
      ? `${plural(without.length, 'owner or admin', 'owners or admins')} without a second factor: ${list(
          without.map((m) => `${m.email} (${m.role})`),
        )}`
      : '',
    unknown.length > 0
      ? `the user pool could not say for ${plural(unknown.length, 'owner or admin', 'owners or admins')}: ${list(
          unknown.map((m) => `${m.email} (${m.role})`),
        )}`
      : '',
  ].filter((part) => part !== '');
  if (said.length > 0) {
    const evidence = said.join('; ');
    return { ...base, status: 'warn', evidence: evidence.charAt(0).toUpperCase() + evidence.slice(1) };
  }
  return {
    ...base,
    status: 'pass',
    evidence: `All ${plural(privileged.length, 'owner or admin', 'owners and admins')} have a second factor`,
  };
}

export function privilegedChangesListed(
  facts: Pick<ComplianceFacts, 'privilegedChanges' | 'privilegedChangesComplete' | 'auditRetentionDays'>,
): ComplianceCheck {
  const window = COMPLIANCE_THRESHOLDS.privilegedChangeDays;
  const base = {
    id: 'privileged-changes-listed',
    title: `Privileged changes of the last ${window} days listed`,
  } as const;
  const count = plural(facts.privilegedChanges.length, 'privileged change');
  if (facts.auditRetentionDays === null || facts.auditRetentionDays < window) {
    return {
      ...base,
      status: 'fail',
      evidence: `Audit records are kept ${facts.auditRetentionDays ?? 'an unknown number of'} days, less than the ${window}-day window: changes may be missing (${count} found)`,
    };
  }
  if (!facts.privilegedChangesComplete) {
    return {
      ...base,
      status: 'warn',
      evidence: `More privileged changes than the report lists; the ${count} shown are the newest (the audit log has them all)`,
    };
  }
  return {
    ...base,
    status: 'pass',
    evidence: `${count} in the last ${window} days, all listed under Access`,
  };
}

export function encryptedAtRest(facts: Pick<ComplianceFacts, 'databases'>): ComplianceCheck {
  const base = { id: 'encryption-at-rest', title: 'Data encrypted at rest' } as const;
  if (facts.databases.length === 0) {
    return { ...base, status: 'pass', evidence: 'The tenant has no database' };
  }
  const plain = facts.databases.filter((d) => !d.encrypted);
  if (plain.length > 0) {
    return {
      ...base,
      status: 'fail',
      evidence: `${plural(plain.length, 'database')} on storage not encrypted at rest: ${list(
        plain.map((d) =>
          d.engine === null
            ? `${d.databaseId} (cluster ${d.cluster ?? 'not placed'}, not in the configuration)`
            : `${d.databaseId} (cluster ${d.cluster}, ${d.engine})`,
        ),
      )}`,
    };
  }
  const clusters = [...new Set(facts.databases.map((d) => `${d.cluster} (${d.engine}, ${d.region})`))];
  return {
    ...base,
    status: 'pass',
    evidence: `${plural(facts.databases.length, 'database')} on storage-encrypted clusters: ${list(clusters)}`,
  };
}

export function backupRecent(facts: Pick<ComplianceFacts, 'backups' | 'now'>): ComplianceCheck {
  const limit = COMPLIANCE_THRESHOLDS.backupMaxAgeHours;
  const base = { id: 'backup-recent', title: `Latest backup younger than ${limit} hours` } as const;
  const latest = facts.backups.latestCompletedAt;
  const kept =
    facts.backups.retentionDays === undefined ? '' : `; backups are kept ${facts.backups.retentionDays} days`;
  if (latest === undefined) {
    return {
      ...base,
      status: 'warn',
      evidence: `No backup has completed yet: the check applies once one has${kept}`,
    };
  }
  const hours = Math.floor((facts.now.getTime() - Date.parse(latest)) / HOUR_MS);
  return {
    ...base,
    status: hours < limit ? 'pass' : 'fail',
    evidence: `The latest backup completed at ${latest}, ${plural(hours, 'hour')} ago${kept}`,
  };
}

export function auditRetentionConfigured(
  facts: Pick<ComplianceFacts, 'auditRetentionDays'>,
): ComplianceCheck {
  const recommended = COMPLIANCE_THRESHOLDS.auditRetentionRecommendedDays;
  const base = { id: 'audit-retention', title: 'Audit retention configured' } as const;
  const days = facts.auditRetentionDays;
  if (days === null) {
    return {
      ...base,
      status: 'fail',
      evidence: 'The deployment does not say how long audit records are kept',
    };
  }
  return {
    ...base,
    status: days >= recommended ? 'pass' : 'warn',
    evidence: `Audit records are kept ${days} days, then expire (DynamoDB TTL)${
      days >= recommended ? '' : `; less than the ${recommended} days commonly asked for`
    }`,
  };
}

/** Every check, in the report's order. */
export function complianceChecks(facts: ComplianceFacts): ComplianceCheck[] {
  return [
    ownerPresent(facts),
    invitationsFresh(facts),
    adminsActive(facts),
    privilegedMfa(facts),
    privilegedChangesListed(facts),
    encryptedAtRest(facts),
    backupRecent(facts),
    auditRetentionConfigured(facts),
  ];
}
