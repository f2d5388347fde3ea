/**
 * What each need means, in data: the variables it sets and the IAM actions it allows (the contract
 * test/infra/needs.test.ts holds every synthesized policy to), and which needs include others.
 * How each is granted is infra/constructs/needs.ts.
 */
import { NEEDS, type Need } from '#shared/domain/needs';
import { TENANT_TAG } from '#shared/provisioning/names';

/**
 * The Data API actions, as `DatabaseCluster.grantDataApiAccess` grants them. That method also
 * grants reading the cluster's master secret, so Tenantry never calls it: which secret a function
 * may read is a need of its own (`controlDb`, `clusterAdmin`, `tenantData`).
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonrdsdataapi.html
 */
export const DATA_API_ACTIONS = [
  'rds-data:BatchExecuteStatement',
  'rds-data:BeginTransaction',
  'rds-data:CommitTransaction',
  'rds-data:ExecuteStatement',
  'rds-data:RollbackTransaction',
] as const;

/** Tag every tenant secret carries; IAM only lets the secret steps touch secrets that have it. */
export const TENANT_ID_TAG = TENANT_TAG;

/** The state machine's name: fixed, so that other stacks can name its executions in IAM. */
export const provisioningStateMachineName = (stage: string) => `tenantry-${stage}-provisioning`;

/** `TENANT_PLANS` of a deployment that configures no plans: the default catalogue. */
export const DEFAULT_TENANT_PLANS = '{}';

/**
 * The environment variables each need sets, and the IAM actions it allows: the contract the
 * runtime reads its configuration by, and what test/infra/needs.test.ts holds every synthesized
 * policy to.
 */
export const NEED_ENVIRONMENT: Readonly<Record<Need, readonly string[]>> = {
  controlDb: ['CLUSTER_ARN', 'CONTROL_SECRET_ARN'],
  tenantData: ['CLUSTER_ARN', 'CLUSTERS', 'TENANT_ACCESS_ROLE_ARN'],
  clusterAdmin: ['CLUSTER_ARN', 'CLUSTER_SECRET_ARN', 'CLUSTERS', 'CLUSTER_SECRET_ARNS', 'POOL_SECRET_ARN'],
  tenantSecretsCreate: ['TENANT_SECRET_PREFIX'],
  tenantSecretsRead: ['TENANT_SECRET_PREFIX'],
  tenantSecretsDelete: ['TENANT_SECRET_PREFIX'],
  workflows: ['PROVISIONING_STATE_MACHINE_ARN'],
  workflowHistory: ['PROVISIONING_STATE_MACHINE_ARN'],
  events: ['EVENT_BUS_NAME'],
  telemetry: ['EVENT_BUS_NAME', 'TELEMETRY_DLQ_URL'],
  auditRecords: ['AUDIT_TABLE_NAME'],
  auditRecordsWrite: ['AUDIT_TABLE_NAME'],
  usageRecords: ['USAGE_TABLE_NAME'],
  usageRecordsWrite: ['USAGE_TABLE_NAME'],
  rateLimits: ['LIMITS_TABLE_NAME'],
  exportArchive: ['EXPORTS_BUCKET_NAME'],
  exportArchiveWrite: ['EXPORTS_BUCKET_NAME'],
  backupStore: ['BACKUPS_BUCKET_NAME', 'BACKUPS_KEY_ARN'],
  identityAdmin: ['USER_POOL_ID'],
  // The trigger's event names its pool; the pool depends on the trigger, so no variable could.
  identityMfaStatus: [],
  memberMfaStatus: ['USER_POOL_ID'],
  plans: ['TENANT_PLANS'],
  dataProtection: ['CLUSTER_STORAGE', 'AUDIT_RETENTION_DAYS'],
};

const DYNAMODB_READ = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const DYNAMODB_WRITE = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:DescribeTable',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  // The batch writer's INSERTs (BatchExecuteStatement), no more than a conditional PutItem can do.
  'dynamodb:PartiQLInsert',
];
const SECRET_READ = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];

export const NEED_ACTIONS: Readonly<Record<Need, readonly string[]>> = {
  controlDb: [...DATA_API_ACTIONS, ...SECRET_READ],
  tenantData: ['sts:AssumeRole', 'sts:TagSession'],
  clusterAdmin: [...DATA_API_ACTIONS, ...SECRET_READ],
  tenantSecretsCreate: [
    'secretsmanager:CreateSecret',
    'secretsmanager:TagResource',
    'secretsmanager:GetSecretValue',
    'secretsmanager:DescribeSecret',
  ],
  tenantSecretsRead: ['secretsmanager:GetSecretValue'],
  tenantSecretsDelete: ['secretsmanager:DeleteSecret', 'secretsmanager:DescribeSecret'],
  workflows: ['states:StartExecution'],
  workflowHistory: ['states:DescribeExecution', 'states:GetExecutionHistory'],
  events: ['events:PutEvents'],
  telemetry: ['events:PutEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
  auditRecords: DYNAMODB_READ,
  auditRecordsWrite: [...DYNAMODB_READ, ...DYNAMODB_WRITE],
  usageRecords: DYNAMODB_READ,
  usageRecordsWrite: [...DYNAMODB_READ, ...DYNAMODB_WRITE],
  rateLimits: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  exportArchive: ['s3:ListBucket', 's3:GetObject'],
  exportArchiveWrite: ['s3:ListBucket', 's3:GetObject', 's3:PutObject'],
  backupStore: [
    's3:ListBucket',
    's3:GetObject',
    's3:PutObject',
    's3:DeleteObject',
    'kms:GenerateDataKey',
    'kms:Decrypt',
  ],
  identityAdmin: ['cognito-idp:ListUsers', 'cognito-idp:AdminCreateUser'],
  identityMfaStatus: ['cognito-idp:AdminGetUser'],
  memberMfaStatus: ['cognito-idp:AdminGetUser'],
  // Configuration only.
  plans: [],
  dataProtection: [],
};

/** A need that another one includes: declaring both grants the larger one only. */
const INCLUDED_IN: Partial<Record<Need, Need>> = {
  tenantSecretsRead: 'tenantSecretsCreate',
  events: 'telemetry',
  auditRecords: 'auditRecordsWrite',
  usageRecords: 'usageRecordsWrite',
  exportArchive: 'exportArchiveWrite',
};

/** The needs actually granted for a declaration: vocabulary order, included ones dropped. */
export function effectiveNeeds(declared: Iterable<Need>): Need[] {
  const wanted = new Set(declared);
  return NEEDS.filter((need) => {
    if (!wanted.has(need)) return false;
    const larger = INCLUDED_IN[need];
    return larger === undefined || !wanted.has(larger);
  });
}
