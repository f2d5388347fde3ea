import type { DataProtectionSettings } from '#shared/compliance/data-protection';
import { once } from '#shared/composition/lazy';
import type { RecordServices } from '#shared/composition/record-services';
import { ControlTenantAccess } from '#shared/control/access-policy';
import { ClusterRegistry } from '#shared/control/cluster-registry';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { IdempotencyRecords } from '#shared/control/idempotency-records';
import { InvitationRepository } from '#shared/control/invitation-repository';
import { MembershipRepository } from '#shared/control/membership-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { UserRepository } from '#shared/control/user-repository';
import type { PlanSettings } from '#shared/domain/plans';
import type { MfaStatus } from '#shared/identity/platform-mfa';
import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import type { BackupStore } from '#shared/ports/backup-store';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { EventPublisher } from '#shared/ports/event-publisher';
import type { IdempotencyStore } from '#shared/ports/idempotency';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SecretStore } from '#shared/ports/secrets';
import type { SqlRunner } from '#shared/ports/sql';
import type { TelemetrySink } from '#shared/ports/telemetry';
import type { WorkflowStarter } from '#shared/ports/workflows';
import type { TenantLimiter } from '#shared/records/tenant-limits';

/** Plain values every adapter set carries. */
export interface PlatformSettings {
  readonly stage: string;
  /** Name of the control database on the cluster. */
  readonly controlDatabase: string;
  /**
   * How long a function reuses a membership answer (ms, at most 30 s).
   * @default ACCESS_CACHE_MS (30 s)
   */
  readonly accessCacheMs?: number;
  /** The control application role's secret (`CONTROL_SECRET_ARN`): the migrator sets its password. */
  readonly controlSecretArn?: string;
  /** `PLATFORM_GROUPS_REQUIRE_MFA`: platform groups only in the tokens of users with a second factor. */
  readonly platformGroupsRequireMfa?: boolean;
  /**
   * `TENANT_PLANS`: the deployment's plan catalogue and default plan.
   * @default DEFAULT_PLAN_SETTINGS (free, standard, premium; free by default)
   */
  readonly plans?: PlanSettings;
  /**
   * The `dataProtection` need's configuration (`CLUSTER_STORAGE`, `AUDIT_RETENTION_DAYS`): only
   * for the functions that declare it (the compliance report).
   */
  readonly dataProtection?: DataProtectionSettings;
  /** `USER_POOL_ID`, when the function's needs name the pool (identityAdmin, memberMfaStatus). */
  readonly userPoolId?: string;
}

/**
 * The adapters behind the ports, chosen by a composition root: the AWS adapters in Lambda
 * (shared/composition/aws-services.ts, from the function's validated configuration), the same
 * adapters on the stand-ins' endpoints and each function's own credentials on the local platform,
 * a test's own. A handler receives them as an argument (shared/composition/handler.ts); each
 * adapter is made, and its modules imported, the first time the handler uses it.
 */
export interface Services {
  readonly settings: PlatformSettings;
  /** The control database as its application role (`tenantry_app`). */
  readonly control: SqlRunner;
  /** The control database as the master: the migrator's alone (it owns the schema). */
  readonly masterControl: SqlRunner;
  readonly users: UserRepository;
  readonly tenants: TenantRepository;
  readonly memberships: MembershipRepository;
  readonly invitations: InvitationRepository;
  readonly customRoles: CustomRoleRepository;
  readonly databases: DatabaseRegistry;
  /** The clusters, their states and capacities (docs/clusters.md), in the control database. */
  readonly clusterRegistry: ClusterRegistry;
  /** The Idempotency-Key records of the idempotent routes, in the control database. */
  readonly idempotency: IdempotencyStore;
  readonly tenantAccess: ControlTenantAccess;
  readonly activeTenants: ActiveTenantSource;
  readonly identity: IdentityAdmin;
  /** Whether a pool user has a second factor (the pre-token trigger, with the MFA setting on). */
  readonly mfaStatus: MfaStatus;
  readonly workflows: WorkflowStarter;
  readonly clusters: DatabaseClusters;
  readonly secrets: SecretStore;
  readonly events: EventPublisher;
  /** Where the HTTP handlers' audit, usage and metric records go; `null` for a function without a bus. */
  readonly telemetry: TelemetrySink | null;
  /** The audit, usage and metric stores and the finance export archive. */
  readonly records: RecordServices;
  /** Each tenant's request rate and API calls of the month; `null` where no limits table is configured. */
  readonly limiter: TenantLimiter | null;
  /** Tenants' backups (the `backupStore` need): the exports bucket's `backups/`, a folder locally. */
  readonly backupStore: BackupStore;
}

export interface Adapters {
  readonly settings: () => PlatformSettings;
  readonly control: () => SqlRunner;
  readonly masterControl: () => SqlRunner;
  readonly identity: () => IdentityAdmin;
  /** @default - none: asking fails */
  readonly mfaStatus?: () => MfaStatus;
  readonly workflows: () => WorkflowStarter;
  readonly clusters: () => DatabaseClusters;
  readonly secrets: () => SecretStore;
  readonly events: () => EventPublisher;
  /**
   * The telemetry sink of the HTTP handlers.
   * @default - none: the handlers emit no records
   */
  readonly telemetry?: () => TelemetrySink | null;
  /**
   * The record stores and the export archive.
   * @default - none: using one throws
   */
  readonly records?: () => RecordServices;
  /**
   * The idempotency records (a test's own clock, TTL or lease).
   * @default - the control database's, with DEFAULT_IDEMPOTENCY_SETTINGS
   */
  readonly idempotency?: () => IdempotencyStore;
  /**
   * The per-tenant rate and monthly limits of the HTTP handlers.
   * @default - none: requests are not limited
   */
  readonly limiter?: () => TenantLimiter | null;
  /**
   * The backup store.
   * @default - none: using it throws
   */
  readonly backupStore?: () => BackupStore;
}

/** Services on top of adapters; each adapter is made on first use. */
export function servicesFrom(adapters: Adapters): Services {
  const settings = once(adapters.settings);
  const control = once(adapters.control);
  const masterControl = once(adapters.masterControl);
  const users = once(() => new UserRepository(control()));
  const tenants = once(() => new TenantRepository(control()));
  const memberships = once(() => new MembershipRepository(control()));
  const invitations = once(() => new InvitationRepository(control()));
  const customRoles = once(() => new CustomRoleRepository(control()));
  const databases = once(() => new DatabaseRegistry(control()));
  const clusterRegistry = once(() => new ClusterRegistry(control()));
  const idempotency = once(adapters.idempotency ?? (() => new IdempotencyRecords(control())));
  const tenantAccess = once(
    () =>
      new ControlTenantAccess(memberships(), tenants(), Date.now, settings().accessCacheMs, settings().plans),
  );
  const identity = once(adapters.identity);
  const mfaStatus = once(
    adapters.mfaStatus ??
      (() => {
        throw new Error('No MFA status in this composition');
      }),
  );
  const workflows = once(adapters.workflows);
  const clusters = once(adapters.clusters);
  const secrets = once(adapters.secrets);
  const events = once(adapters.events);
  const telemetry = once(adapters.telemetry ?? (() => null));
  const limiter = once(adapters.limiter ?? (() => null));
  const records = once(
    adapters.records ??
      (() => {
        throw new Error('No record services in this composition');
      }),
  );
  const backupStore = once(
    adapters.backupStore ??
      (() => {
        throw new Error('No backup store in this composition');
      }),
  );
  return {
    get settings() {
      return settings();
    },
    get control() {
      return control();
    },
    get masterControl() {
      return masterControl();
    },
    get users() {
      return users();
    },
    get tenants() {
      return tenants();
    },
    get memberships() {
      return memberships();
    },
    get invitations() {
      return invitations();
    },
    get customRoles() {
      return customRoles();
    },
    get databases() {
      return databases();
    },
    get clusterRegistry() {
      return clusterRegistry();
    },
    get idempotency() {
      return idempotency();
    },
    get tenantAccess() {
      return tenantAccess();
    },
    get activeTenants() {
      return users();
    },
    get identity() {
      return identity();
    },
    get mfaStatus() {
      return mfaStatus();
    },
    get workflows() {
      return workflows();
    },
    get clusters() {
      return clusters();
    },
    get secrets() {
      return secrets();
    },
    get events() {
      return events();
    },
    get telemetry() {
      return telemetry();
    },
    get limiter() {
      return limiter();
    },
    get records() {
      return records();
    },
    get backupStore() {
      return backupStore();
    },
  };
}
