import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { grantBackupStore, grantExportsArchive } from '#infra/constructs/bucket-grants';
import { grantDataProtection } from '#infra/constructs/data-protection';
import {
  DATA_API_ACTIONS,
  DEFAULT_TENANT_PLANS,
  effectiveNeeds,
  NEED_ACTIONS,
  NEED_ENVIRONMENT,
  provisioningStateMachineName,
  TENANT_ID_TAG,
} from '#infra/constructs/need-contract';
import {
  grantPartiqlInsert,
  grantReadWorkflowExecutions,
  grantTable,
  type TenantryFunction,
} from '#infra/constructs/tenantry-function';
import { PRIMARY_CLUSTER_ID } from '#shared/domain/clusters';
import type { Need } from '#shared/domain/needs';
import { tenantSecretPrefix } from '#shared/provisioning/names';

export {
  DATA_API_ACTIONS,
  DEFAULT_TENANT_PLANS,
  effectiveNeeds,
  NEED_ACTIONS,
  NEED_ENVIRONMENT,
  provisioningStateMachineName,
  TENANT_ID_TAG,
};

/** A cluster tenant databases may be placed on, by its registry id. */
export interface NeedCluster {
  readonly id: string;
  readonly cluster: rds.DatabaseCluster;
}

/** What a grant may use. A need whose resource a stack does not pass fails the synthesis. */
export interface NeedResources {
  readonly stage: string;
  /** The control database's cluster (`primary`). */
  readonly cluster?: rds.DatabaseCluster;
  /**
   * Every cluster tenant databases may be on, `primary` first (docs/clusters.md).
   * @default - `cluster` alone, as `primary`
   */
  readonly clusters?: readonly NeedCluster[];
  /** The control database's application role secret (`tenantry_app`). */
  readonly controlAppSecret?: secretsmanager.ISecret;
  /** The pool login role's secret (`tenantry_pool_app`): with the master's, to the clusterAdmin functions. */
  readonly poolAppSecret?: secretsmanager.ISecret;
  /** The role a function assumes, tagged with a tenant, to reach that tenant's data. */
  readonly tenantAccessRole?: iam.IRole;
  readonly eventBus?: events.IEventBus;
  readonly telemetryDeadLetterQueue?: sqs.IQueue;
  readonly auditTable?: dynamodb.ITable;
  readonly usageTable?: dynamodb.ITable;
  readonly limitsTable?: dynamodb.ITable;
  readonly provisioningWorkflow?: sfn.IStateMachine;
  readonly exportsBucket?: s3.IBucket;
  /** The KMS key every backup object is encrypted with (`BackupsKey`, Stateful stack). */
  readonly backupsKey?: kms.IKey;
  readonly userPool?: cognito.IUserPool;
  /** `TENANT_PLANS`: the plan catalogue as JSON (`{}` for the defaults; infra/plans-context.ts). */
  readonly tenantPlans?: string;
  /** The audit consumer's `AUDIT_RETENTION_DAYS`, told the compliance report (`dataProtection`). */
  readonly auditRetentionDays?: number;
}

function required<T>(value: T | undefined, need: Need, what: string, fn: TenantryFunction): T {
  if (value === undefined)
    throw new Error(`${fn.node.path} declares ${need}, but its stack passes no ${what}`);
  return value;
}

/** `arn:…:secret:tn/<stage>/*`: the tenant secrets of the stage. */
export function tenantSecretsArn(scope: TenantryFunction | Stack, stage: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${tenantSecretPrefix(stage)}*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function allowDataApi(fn: TenantryFunction, clusters: readonly rds.DatabaseCluster[]): void {
  fn.role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...DATA_API_ACTIONS], resources: clusters.map((c) => c.clusterArn) }),
  );
}

/** The clusters of a grant: the configured list, or the one control cluster as `primary`. */
export function needClusters(
  resources: NeedResources,
  need: Need,
  fn: TenantryFunction,
): readonly NeedCluster[] {
  return (
    resources.clusters ?? [
      { id: PRIMARY_CLUSTER_ID, cluster: required(resources.cluster, need, 'cluster', fn) },
    ]
  );
}

/**
 * `CLUSTERS` (and `CLUSTER_SECRET_ARNS`): each cluster's ARN (master secret's ARN) by id, one JSON
 * object, resolved by CloudFormation (`toJsonString` joins the tokens). Compact on purpose: Lambda
 * allows 4 KB of environment variables per function in all
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); test/infra/clusters.test.ts
 * measures the largest function's with MAX_CLUSTERS clusters.
 */
function setClusterEnvironment(
  fn: TenantryFunction,
  clusters: readonly NeedCluster[],
  withSecrets: boolean,
): void {
  const stack = Stack.of(fn);
  fn.addEnvironment(
    'CLUSTERS',
    stack.toJsonString(Object.fromEntries(clusters.map((c) => [c.id, c.cluster.clusterArn]))),
  );
  if (!withSecrets) return;
  fn.addEnvironment(
    'CLUSTER_SECRET_ARNS',
    stack.toJsonString(Object.fromEntries(clusters.map((c) => [c.id, masterSecretOf(c.cluster).secretArn]))),
  );
}

function masterSecretOf(cluster: rds.DatabaseCluster): secretsmanager.ISecret {
  if (!cluster.secret) throw new Error('The cluster has no master secret to grant');
  return cluster.secret;
}

/** GetSecretValue on tenant secrets, only those that carry a tenant tag (the one statement both read needs share). */
function readTaggedTenantSecrets(fn: TenantryFunction, stage: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'ReadTaggedTenantSecrets',
    actions: ['secretsmanager:GetSecretValue'],
    resources: [tenantSecretsArn(fn, stage)],
    conditions: { Null: { [`secretsmanager:ResourceTag/${TENANT_ID_TAG}`]: 'false' } },
  });
}

/**
 * Metadata only, never a value. Without the tag condition, so that asking about a secret that
 * does not exist answers ResourceNotFoundException: a missing secret has no tags, and under the
 * condition IAM would refuse the call (AccessDeniedException).
 */
function describeTenantSecrets(fn: TenantryFunction, stage: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'DescribeTenantSecrets',
    actions: ['secretsmanager:DescribeSecret'],
    resources: [tenantSecretsArn(fn, stage)],
  });
}

type Grant = (fn: TenantryFunction, resources: NeedResources) => void;

/** The one place a need becomes IAM statements and environment variables. */
export const NEED_GRANTS: Readonly<Record<Need, Grant>> = {
  controlDb: (fn, r) => {
    const cluster = required(r.cluster, 'controlDb', 'cluster', fn);
    allowDataApi(fn, [cluster]);
    fn.addEnvironment('CLUSTER_ARN', cluster.clusterArn);
    const secret = required(r.controlAppSecret, 'controlDb', 'control application secret', fn);
    secret.grantRead(fn.role);
    fn.addEnvironment('CONTROL_SECRET_ARN', secret.secretArn);
  },
  tenantData: (fn, r) => {
    const cluster = required(r.cluster, 'tenantData', 'cluster', fn);
    const role = required(r.tenantAccessRole, 'tenantData', 'tenant-access role', fn);
    // Same-account trust of the account root: the caller's identity policy must allow the
    // assumption (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html),
    // and passing session tags needs sts:TagSession as well
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_permissions-required).
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeTenantAccessRole',
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resources: [role.roleArn],
      }),
    );
    fn.addEnvironment('CLUSTER_ARN', cluster.clusterArn);
    setClusterEnvironment(fn, needClusters(r, 'tenantData', fn), false);
    fn.addEnvironment('TENANT_ACCESS_ROLE_ARN', role.roleArn);
  },
  clusterAdmin: (fn, r) => {
    const cluster = required(r.cluster, 'clusterAdmin', 'cluster', fn);
    const clusters = needClusters(r, 'clusterAdmin', fn);
    // Every cluster's Data API and master secret: roles and databases are made on any of them.
    allowDataApi(fn, [cluster, ...clusters.map((c) => c.cluster).filter((c) => c !== cluster)]);
    for (const { cluster: each } of clusters) masterSecretOf(each).grantRead(fn.role);
    if (!clusters.some((c) => c.cluster === cluster)) masterSecretOf(cluster).grantRead(fn.role);
    fn.addEnvironment('CLUSTER_ARN', cluster.clusterArn);
    fn.addEnvironment('CLUSTER_SECRET_ARN', masterSecretOf(cluster).secretArn);
    setClusterEnvironment(fn, clusters, true);
    // The migrator gives the pool login role its password; the saga records the secret's ARN as
    // a pooled database's (shared/provisioning/pool.ts). One secret: the role has it on every cluster.
    const pool = required(r.poolAppSecret, 'clusterAdmin', 'pool secret', fn);
    pool.grantRead(fn.role);
    fn.addEnvironment('POOL_SECRET_ARN', pool.secretArn);
  },
  tenantSecretsCreate: (fn, r) => {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateTaggedTenantSecrets',
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        resources: [tenantSecretsArn(fn, r.stage)],
        conditions: { Null: { [`aws:RequestTag/${TENANT_ID_TAG}`]: 'false' } },
      }),
    );
    // A retried step reads the secret it made before, and describes it first (SecretsManagerStore).
    fn.role.addToPrincipalPolicy(readTaggedTenantSecrets(fn, r.stage));
    fn.role.addToPrincipalPolicy(describeTenantSecrets(fn, r.stage));
    fn.addEnvironment('TENANT_SECRET_PREFIX', tenantSecretPrefix(r.stage));
  },
  tenantSecretsRead: (fn, r) => {
    fn.role.addToPrincipalPolicy(readTaggedTenantSecrets(fn, r.stage));
    fn.addEnvironment('TENANT_SECRET_PREFIX', tenantSecretPrefix(r.stage));
  },
  tenantSecretsDelete: (fn, r) => {
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteTaggedTenantSecrets',
        actions: ['secretsmanager:DeleteSecret'],
        resources: [tenantSecretsArn(fn, r.stage)],
        conditions: { Null: { [`secretsmanager:ResourceTag/${TENANT_ID_TAG}`]: 'false' } },
      }),
    );
    // Deleting looks first, so that a secret already gone answers "not found".
    fn.role.addToPrincipalPolicy(describeTenantSecrets(fn, r.stage));
    fn.addEnvironment('TENANT_SECRET_PREFIX', tenantSecretPrefix(r.stage));
  },
  workflows: (fn, r) => {
    const workflow = required(r.provisioningWorkflow, 'workflows', 'provisioning workflow', fn);
    workflow.grantStartExecution(fn.role);
    fn.addEnvironment('PROVISIONING_STATE_MACHINE_ARN', workflow.stateMachineArn);
  },
  workflowHistory: (fn, r) => {
    const workflow = required(r.provisioningWorkflow, 'workflowHistory', 'provisioning workflow', fn);
    grantReadWorkflowExecutions(fn, provisioningStateMachineName(r.stage));
    fn.addEnvironment('PROVISIONING_STATE_MACHINE_ARN', workflow.stateMachineArn);
  },
  events: (fn, r) => {
    const bus = required(r.eventBus, 'events', 'event bus', fn);
    bus.grantPutEventsTo(fn.role);
    fn.addEnvironment('EVENT_BUS_NAME', bus.eventBusName);
  },
  telemetry: (fn, r) => {
    NEED_GRANTS.events(fn, r);
    // Records the bus did not take go to the dead-letter queue.
    const queue = required(r.telemetryDeadLetterQueue, 'telemetry', 'telemetry dead-letter queue', fn);
    queue.grantSendMessages(fn.role);
    fn.addEnvironment('TELEMETRY_DLQ_URL', queue.queueUrl);
  },
  auditRecords: (fn, r) =>
    grantTable(fn, required(r.auditTable, 'auditRecords', 'audit table', fn), 'AUDIT_TABLE_NAME', 'read'),
  auditRecordsWrite: (fn, r) => {
    const table = required(r.auditTable, 'auditRecordsWrite', 'audit table', fn);
    grantTable(fn, table, 'AUDIT_TABLE_NAME', 'readwrite');
    grantPartiqlInsert(fn, table);
  },
  usageRecords: (fn, r) =>
    grantTable(fn, required(r.usageTable, 'usageRecords', 'usage table', fn), 'USAGE_TABLE_NAME', 'read'),
  usageRecordsWrite: (fn, r) => {
    const table = required(r.usageTable, 'usageRecordsWrite', 'usage table', fn);
    grantTable(fn, table, 'USAGE_TABLE_NAME', 'readwrite');
    grantPartiqlInsert(fn, table);
  },
  rateLimits: (fn, r) => {
    // One conditional UpdateItem per request, and a GetItem when it is refused to say why and for
    // how long (shared/records/tenant-limits.ts): nothing else of the table.
    const table = required(r.limitsTable, 'rateLimits', 'limits table', fn);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [table.tableArn],
      }),
    );
    fn.addEnvironment('LIMITS_TABLE_NAME', table.tableName);
  },
  exportArchive: (fn, r) =>
    grantExportsArchive(fn, required(r.exportsBucket, 'exportArchive', 'exports bucket', fn), 'read'),
  exportArchiveWrite: (fn, r) =>
    grantExportsArchive(fn, required(r.exportsBucket, 'exportArchiveWrite', 'exports bucket', fn), 'write'),
  backupStore: (fn, r) =>
    grantBackupStore(
      fn,
      required(r.exportsBucket, 'backupStore', 'exports bucket', fn),
      required(r.backupsKey, 'backupStore', 'backups key', fn),
    ),
  identityAdmin: (fn, r) => {
    const pool = required(r.userPool, 'identityAdmin', 'user pool', fn);
    // Inviting someone new looks the email up in the pool and creates the user (CognitoIdentityAdmin).
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html
    pool.grant(fn.role, 'cognito-idp:ListUsers', 'cognito-idp:AdminCreateUser');
    fn.addEnvironment('USER_POOL_ID', pool.userPoolId);
  },
  plans: (fn, r) => fn.addEnvironment('TENANT_PLANS', required(r.tenantPlans, 'plans', 'plan catalogue', fn)),
  dataProtection: (fn, r) =>
    grantDataProtection(fn, needClusters(r, 'dataProtection', fn), r.auditRetentionDays),
  identityMfaStatus: (fn, r) => {
    const pool = required(r.userPool, 'identityMfaStatus', 'user pool', fn);
    // A policy of its own, not the role's default one: the pool depends on its trigger function,
    // which depends on its role and that role's default policy, so a pool ARN there is a cycle.
    new iam.Policy(fn, 'UserPoolMfaStatus', {
      roles: [fn.role],
      statements: [
        new iam.PolicyStatement({ actions: ['cognito-idp:AdminGetUser'], resources: [pool.userPoolArn] }),
      ],
    });
  },
  memberMfaStatus: (fn, r) => {
    const pool = required(r.userPool, 'memberMfaStatus', 'user pool', fn);
    // The compliance report's owners and admins (CognitoMfaStatus): an API function, which the pool
    // does not depend on, so its role's default policy and a variable can name the pool.
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html
    pool.grant(fn.role, 'cognito-idp:AdminGetUser');
    fn.addEnvironment('USER_POOL_ID', pool.userPoolId);
  },
};

/** Grants a function exactly its declared needs (the union of what it serves). */
export function grantNeeds(fn: TenantryFunction, declared: Iterable<Need>, resources: NeedResources): Need[] {
  const needs = effectiveNeeds(declared);
  for (const need of needs) NEED_GRANTS[need](fn, resources);
  fn.needs.push(...needs);
  return needs;
}
