import { telemetrySinkFromEnv } from '#shared/composition/telemetry-sink';
import { ControlTenantAccess } from '#shared/control/access-policy';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { DatabaseRegistry } from '#shared/control/database-registry';
import { InvitationRepository } from '#shared/control/invitation-repository';
import { MembershipRepository } from '#shared/control/membership-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { UserRepository } from '#shared/control/user-repository';
import type { ActiveTenantSource } from '#shared/ports/active-tenant';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { EventPublisher } from '#shared/ports/event-publisher';
import type { IdentityAdmin } from '#shared/ports/identity-admin';
import type { SecretStore } from '#shared/ports/secrets';
import type { SqlRunner } from '#shared/ports/sql';
import type { TelemetrySink } from '#shared/ports/telemetry';
import type { WorkflowStarter } from '#shared/ports/workflows';

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
}

/**
 * The adapters behind the ports, chosen by the composition root: the AWS adapters in Lambda
 * (built lazily, from the function's configuration, the first time a handler needs one), the
 * embedded engines' adapters on the local platform, which installs its own before any handler
 * runs. Handlers reach them through `services()` at request time, never at import time.
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
  readonly tenantAccess: ControlTenantAccess;
  readonly activeTenants: ActiveTenantSource;
  readonly identity: IdentityAdmin;
  readonly workflows: WorkflowStarter;
  readonly clusters: DatabaseClusters;
  readonly secrets: SecretStore;
  readonly events: EventPublisher;
  /** Where the HTTP handlers' audit, usage and metric records go; `null` for a function without a bus. */
  readonly telemetry: TelemetrySink | null;
}

export interface Adapters {
  readonly settings: () => PlatformSettings;
  readonly control: () => SqlRunner;
  readonly masterControl: () => SqlRunner;
  readonly identity: () => IdentityAdmin;
  readonly workflows: () => WorkflowStarter;
  readonly clusters: () => DatabaseClusters;
  readonly secrets: () => SecretStore;
  readonly events: () => EventPublisher;
  /**
   * The telemetry sink. The local platform sets the same variables per function as the CDK app
   * (`EVENT_BUS_NAME`, `TELEMETRY_DEAD_LETTER_FILE`), so one reading of them serves both.
   * @default - the sink of `process.env`, read on first use
   */
  readonly telemetry?: () => TelemetrySink | null;
}

function once<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    // Boxed, so that a null (no telemetry sink) is made once too.
    made ??= { value: make() };
    return made.value;
  };
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
  const tenantAccess = once(
    () => new ControlTenantAccess(memberships(), tenants(), Date.now, settings().accessCacheMs),
  );
  const identity = once(adapters.identity);
  const workflows = once(adapters.workflows);
  const clusters = once(adapters.clusters);
  const secrets = once(adapters.secrets);
  const events = once(adapters.events);
  const telemetry = once(adapters.telemetry ?? (() => telemetrySinkFromEnv()));
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
    get tenantAccess() {
      return tenantAccess();
    },
    get activeTenants() {
      return users();
    },
    get identity() {
      return identity();
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
  };
}
