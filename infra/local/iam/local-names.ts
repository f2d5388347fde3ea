/**
 * The physical names of the resources the templates leave unnamed (CloudFormation or the service
 * would generate them), as the local platform has them: the record tables, the user pool, the
 * cluster's master secret, the finance exports bucket, the backups KMS key and the telemetry
 * dead-letter queue. A grant
 * on any of them resolves to the local resource, so it allows exactly what it allows in AWS.
 *
 * Resources are found by the logical id the CDK gives them (the construct id and a hash), per
 * type. What is still unnamed after this (log groups, the failed-invocation queues Lambda itself
 * writes to) is named as CloudFormation names it, `<stack>-<logical id>` without the random
 * suffix, so that a grant on it is a grant on something, even if nothing local calls it.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './access.ts';
import type { ArnScope } from './physical-names.ts';
import { arnsIn, namedAnswer } from './physical-names.ts';
import type { PhysicalResolver } from './template-policies.ts';

export interface LocalResourceNames {
  readonly auditTable: string;
  readonly usageTable: string;
  readonly limitsTable: string;
  /** The local user pool's id (`us-east-1_…`). */
  readonly userPoolId: string;
  /** The Secrets Manager stand-in's ARN of the master secret, random suffix included. */
  readonly masterSecretArn: string;
  /** Every cluster's master secret ARN by cluster id (`--clusters`). @default - `primary`'s alone */
  readonly clusterMasterSecretArns?: Readonly<Record<string, string>>;
  /** The stand-in's ARN of the control database application role's secret. */
  readonly controlSecretArn: string;
  /** The stand-in's ARN of the pool login role's secret. */
  readonly poolSecretArn: string;
  readonly exportsBucket: string;
  readonly telemetryDeadLetterQueue: string;
  /** The key id (a UUID, as KMS gives) of the backups key the local platform stands in for. */
  readonly backupsKeyId: string;
}

/** The local backups key's id: fixed, as a deployed key's id is for the life of the stack. */
export const LOCAL_BACKUPS_KEY_ID = '0000b4c0-0000-4000-8000-00000000b4c0';

/** The local backups key's ARN, as `Fn::GetAtt BackupsKey.Arn` resolves here. */
export const localBackupsKeyArn = (keyId = LOCAL_BACKUPS_KEY_ID): string =>
  arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION }).kmsKey(keyId);

/** Construct ids (the logical id without its hash) of what the local platform names itself. */
const NAMED: ReadonlyArray<{
  readonly type: string;
  readonly constructId: RegExp;
  readonly name: (names: LocalResourceNames) => string;
}> = [
  { type: 'AWS::DynamoDB::Table', constructId: /^AuditTable[0-9A-F]{8}$/, name: (n) => n.auditTable },
  { type: 'AWS::DynamoDB::Table', constructId: /^UsageTable[0-9A-F]{8}$/, name: (n) => n.usageTable },
  { type: 'AWS::DynamoDB::Table', constructId: /^LimitsTable[0-9A-F]{8}$/, name: (n) => n.limitsTable },
  { type: 'AWS::Cognito::UserPool', constructId: /^UserPool[0-9A-F]{8}$/, name: (n) => n.userPoolId },
  { type: 'AWS::S3::Bucket', constructId: /^FinanceExportsBucket[0-9A-F]{8}$/, name: (n) => n.exportsBucket },
  {
    type: 'AWS::SQS::Queue',
    constructId: /^TelemetryDeadLetterQueue[0-9A-F]{8}$/,
    name: (n) => n.telemetryDeadLetterQueue,
  },
];

/** Types whose unnamed resources get CloudFormation's `<stack>-<logical id>` name. */
const GENERATED = new Set(['AWS::Logs::LogGroup', 'AWS::SQS::Queue', 'AWS::SNS::Topic']);

export function localPhysicalNames(scope: ArnScope, names: LocalResourceNames): PhysicalResolver {
  return (ref) => {
    // RDS manages the master secret (`manageMasterUserPassword`): GetAtt MasterUserSecret.SecretArn.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbcluster.html
    // The cluster is the construct `Database` (`primary`) or `Database-<id>`: its logical id is
    // that, without the hyphen, and an 8-character hash (StatefulStack).
    if (ref.type === 'AWS::RDS::DBCluster' && ref.attribute === 'MasterUserSecret.SecretArn') {
      const id = /^Database[A-Za-z0-9]*[0-9A-F]{8}$/.test(ref.logicalId) ? ref.logicalId.slice(8, -8) : '';
      return id === '' ? names.masterSecretArn : names.clusterMasterSecretArns?.[id];
    }
    // A secret's Ref is its ARN, with the random suffix Secrets Manager gave it.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secret.html
    if (ref.type === 'AWS::SecretsManager::Secret' && ref.attribute === undefined) {
      if (/^ControlAppSecret[0-9A-F]{8}$/.test(ref.logicalId)) return names.controlSecretArn;
      if (/^PoolAppSecret[0-9A-F]{8}$/.test(ref.logicalId)) return names.poolSecretArn;
    }
    // A key's Ref is its key id, GetAtt Arn its ARN (`arn:…:kms:<region>:<account>:key/<key id>`).
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kms-key.html
    if (ref.type === 'AWS::KMS::Key' && /^BackupsKey[0-9A-F]{8}$/.test(ref.logicalId)) {
      if (ref.attribute === undefined || ref.attribute === 'KeyId') return names.backupsKeyId;
      return ref.attribute === 'Arn' ? arnsIn(scope).kmsKey(names.backupsKeyId) : undefined;
    }
    const named = NAMED.find((entry) => entry.type === ref.type && entry.constructId.test(ref.logicalId));
    if (named) return namedAnswer(scope, ref.type, named.name(names), ref.attribute);
    return undefined;
  };
}

/** The fallback after the template's own names: CloudFormation's generated name, suffix omitted. */
export function generatedPhysicalNames(scope: ArnScope): PhysicalResolver {
  return (ref) =>
    GENERATED.has(ref.type)
      ? namedAnswer(scope, ref.type, `${ref.stack}-${ref.logicalId}`, ref.attribute)
      : undefined;
}
