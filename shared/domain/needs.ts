/**
 * What a function may reach, declared next to what it serves (a route, an event subscription, a
 * scheduled job, a provisioning step) and nowhere else. The CDK app turns the union of a
 * function's declarations into its IAM statements and its environment, one grant per need
 * (infra/constructs/needs.ts); a function that declares nothing gets nothing but its own logs.
 *
 * Closed on purpose: a new kind of access is a new word here, a grant there, and a row in
 * docs/identity-and-access.md, reviewed together.
 */
export const NEEDS = [
  /** The control database through the Data API, as the application role `tenantry_app`. */
  'controlDb',
  /** Statements in a tenant's own databases, with credentials of the tenant-access role for that tenant. */
  'tenantData',
  /** The cluster's master role: create and drop roles and databases, migrate the control schema. */
  'clusterAdmin',
  /** Create a tenant's secret (tagged with its tenant) and read it back (a retried step). */
  'tenantSecretsCreate',
  /** Read a tenant's secret with the function's own role (the step that sets the role's password). */
  'tenantSecretsRead',
  /** Delete a tenant's secret (compensation, offboarding). */
  'tenantSecretsDelete',
  /** Start executions of the provisioning workflow. */
  'workflows',
  /** Read the status and step history of the provisioning workflow's executions. */
  'workflowHistory',
  /** Publish domain events on the bus. */
  'events',
  /** The HTTP handlers' audit, usage and metric records: the bus, and its dead-letter queue. */
  'telemetry',
  /** Read audit records. */
  'auditRecords',
  /** Write (and read) audit records: the audit consumer. */
  'auditRecordsWrite',
  /** Read usage records, rollups and metrics. */
  'usageRecords',
  /** Write (and read) usage records, rollups and metrics: the consumers and the month close. */
  'usageRecordsWrite',
  /** Each tenant's request rate and API calls of the month: every tenant route (issue 15). */
  'rateLimits',
  /** List and read the finance exports archive. */
  'exportArchive',
  /** List, read and add to the finance exports archive (never delete). */
  'exportArchiveWrite',
  /**
   * Tenants' backups: list, read, write and delete objects under `backups/` of the exports bucket,
   * encrypted with the backups KMS key (shared/ports/backup-store.ts).
   */
  'backupStore',
  /** The user pool's admin API: look a user up by email, create an invited one. */
  'identityAdmin',
  /** The user pool's AdminGetUser: whether a user has a second factor (MFA for platform groups). */
  'identityMfaStatus',
  /**
   * The user pool's AdminGetUser on the pool named by `USER_POOL_ID`: whether a tenant's owners and
   * admins have a second factor (the compliance report, docs/compliance.md).
   */
  'memberMfaStatus',
  /**
   * The deployment's plan catalogue and default plan (`TENANT_PLANS`, from the CDK context):
   * configuration, no access of its own. For the functions that give a tenant its plan or check
   * its limits (shared/domain/plans.ts).
   */
  'plans',
  /**
   * The deployment's data-protection settings as the CDK app synthesized them: each cluster's
   * region, engine and storage encryption (`CLUSTER_STORAGE`), and how long audit records are kept
   * (`AUDIT_RETENTION_DAYS`). Configuration, no access of its own: for the compliance report
   * (docs/compliance.md), which must say what is configured, not assume it.
   */
  'dataProtection',
] as const;

export type Need = (typeof NEEDS)[number];

/** The union of several declarations, in the vocabulary's order (stable for docs and tests). */
export function unionOfNeeds(declarations: Iterable<readonly Need[]>): Need[] {
  const wanted = new Set<Need>();
  for (const needs of declarations) for (const need of needs) wanted.add(need);
  return NEEDS.filter((need) => wanted.has(need));
}

/** The Cognito triggers' default entries under `functions/`. */
export const IDENTITY_TRIGGER_HANDLERS = {
  postConfirmation: 'identity/post-confirmation',
  preTokenGeneration: 'identity/pre-token-generation',
} as const;

/**
 * The Cognito triggers' needs. The post-confirmation trigger records the user and may register a
 * tenant (control database, start provisioning, the default plan); the pre-token-generation trigger reads the
 * active tenant and, for platform staff, whether they have a second factor.
 */
export const IDENTITY_TRIGGER_NEEDS = {
  postConfirmation: ['controlDb', 'workflows', 'plans'],
  preTokenGeneration: ['controlDb', 'identityMfaStatus'],
} as const satisfies Record<string, readonly Need[]>;

/**
 * The control database migrator (`ops/migrate-control-db`): it runs the migrations as the master
 * role and sets the application role's password from the application secret.
 */
export const CONTROL_MIGRATOR_HANDLER = 'ops/migrate-control-db';
export const CONTROL_MIGRATOR_NEEDS = ['controlDb', 'clusterAdmin'] as const satisfies readonly Need[];
