/**
 * IAM for the services the local platform answers in-process instead of over HTTP: the workflow
 * starter (Step Functions), the finance exports archive and the backup store (S3 and KMS, folders
 * locally) and the telemetry dead-letter queue (SQS, a JSON-lines file locally). Each port call is asked as the AWS adapter's
 * API call would be (same action, same resource ARN), with the calling function's key, and a
 * refusal is thrown as the SDK throws the service's error, so the handlers see what they would
 * see in AWS.
 */
import {
  type AccessRequest,
  type Authorize,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  refusalOf,
} from '#infra/local/iam/access';
import { arnsIn } from '#infra/local/iam/physical-names';
import { type BackupStore, checkedKey } from '#shared/ports/backup-store';
import type { DeadLetterSink } from '#shared/ports/event-publisher';
import type { ArchivedExport, ExportArchive } from '#shared/ports/export-archive';
import type { WorkflowExecution, WorkflowStarter } from '#shared/ports/workflows';

/** Who calls: the IAM stand-in's question, the key of the function that runs. */
export interface Caller {
  readonly authorize: Authorize;
  readonly accessKeyId: string | undefined;
}

/** The error an SDK client throws for a refused call: name, fault and HTTP status as the service answers. */
export class ServiceAccessDenied extends Error {
  readonly $fault = 'client';
  readonly $metadata: { readonly httpStatusCode: number };
  readonly Code: string;

  constructor(code: string, httpStatusCode: number, message: string) {
    super(message);
    this.name = code;
    this.Code = code;
    this.$metadata = { httpStatusCode };
  }
}

/** The shape of each service's refusals: denied, and signed with an expired session's key. */
export const DENIALS = {
  /** https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html (AccessDeniedException, 400; ExpiredTokenException, 403) */
  states: {
    denied: { code: 'AccessDeniedException', status: 400 },
    expired: { code: 'ExpiredTokenException', status: 403 },
  },
  /**
   * https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (AccessDenied, 403;
   * ExpiredToken, "The provided token has expired.", 400)
   */
  s3: {
    denied: { code: 'AccessDenied', status: 403 },
    expired: { code: 'ExpiredToken', status: 400, message: 'The provided token has expired.' },
  },
  /**
   * A KMS refusal reached through S3 (the key policy or the caller's policy) is S3's AccessDenied
   * (https://repost.aws/knowledge-center/s3-access-denied-error-kms); KMS's own code is
   * AccessDeniedException, 400 (https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html).
   */
  kms: {
    denied: { code: 'AccessDenied', status: 403 },
    expired: { code: 'ExpiredToken', status: 400, message: 'The provided token has expired.' },
  },
  /**
   * SQS answers `AccessDenied` with 403 and the IAM message
   * (https://github.com/aws/serverless-application-model/issues/3633 quotes one);
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
   * (ExpiredTokenException, 403).
   */
  sqs: {
    denied: { code: 'AccessDenied', status: 403 },
    expired: { code: 'ExpiredTokenException', status: 403 },
  },
} as const;

async function allowed(caller: Caller, request: Omit<AccessRequest, 'accessKeyId'>) {
  return caller.authorize({ ...request, accessKeyId: caller.accessKeyId });
}

/** Throws the service's refusal unless the caller may do the action. */
export async function demand(
  caller: Caller,
  service: keyof typeof DENIALS,
  request: Omit<AccessRequest, 'accessKeyId'>,
): Promise<void> {
  const decision = await allowed(caller, request);
  if (decision.allowed) return;
  const codes = DENIALS[service];
  const { code, status, message } = refusalOf(request, decision, codes);
  const expired = codes.expired as { readonly message?: string };
  throw new ServiceAccessDenied(code, status, decision.expired ? (expired.message ?? message) : message);
}

/**
 * The workflow port as `SfnWorkflowStarter` calls Step Functions: `StartExecution` on the state
 * machine, `DescribeExecution` and `GetExecutionHistory` on the execution.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
 */
export function guardedWorkflows(
  inner: WorkflowStarter,
  caller: Caller,
  stateMachineArn: string,
): WorkflowStarter {
  const executionArn = (name: string) =>
    `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  return {
    async start(name: string, input: Record<string, unknown>) {
      await demand(caller, 'states', {
        action: 'states:StartExecution',
        resource: stateMachineArn,
        context: {},
      });
      return inner.start(name, input);
    },
    async describe(name: string): Promise<WorkflowExecution | null> {
      for (const action of ['states:DescribeExecution', 'states:GetExecutionHistory']) {
        await demand(caller, 'states', { action, resource: executionArn(name), context: {} });
      }
      return inner.describe(name);
    },
  };
}

/**
 * The archive port as `S3ExportArchive` calls S3: `PutObject` and `GetObject` on
 * `usage-exports/<month>.csv`, `ListObjectsV2` (action `s3:ListBucket`, condition key `s3:prefix`)
 * on the bucket. A `GetObject` of a key that does not exist is `NoSuchKey` only for a caller that
 * also has `s3:ListBucket` on the bucket, else `AccessDenied`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"); that check
 * is not a list request, so its context has no `s3:prefix`.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
 */
export function guardedArchive(inner: ExportArchive, caller: Caller, bucket: string): ExportArchive {
  const arn = arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  const bucketArn = arn.s3Bucket(bucket);
  const objectArn = (month: string) => arn.s3Object(bucket, `usage-exports/${month}.csv`);
  return {
    async put(archived: ArchivedExport) {
      // A conditional put (If-None-Match) needs s3:PutObject only.
      await demand(caller, 's3', {
        action: 's3:PutObject',
        resource: objectArn(archived.month),
        context: {},
      });
      return inner.put(archived);
    },
    async get(month: string) {
      await demand(caller, 's3', { action: 's3:GetObject', resource: objectArn(month), context: {} });
      const found = await inner.get(month);
      if (found === null) {
        await demand(caller, 's3', { action: 's3:ListBucket', resource: bucketArn, context: {} });
      }
      return found;
    },
    async list() {
      await demand(caller, 's3', {
        action: 's3:ListBucket',
        resource: bucketArn,
        context: { 's3:prefix': 'usage-exports/' },
      });
      return inner.list();
    },
  };
}

/**
 * The backup store as `S3BackupStore` calls S3, and S3 calls KMS for it: `PutObject` on
 * `backups/<tenantId>/<key>` (and `kms:GenerateDataKey` on the backups key), `GetObject` (and
 * `kms:Decrypt` for an object that exists; `s3:ListBucket` decides NoSuchKey or AccessDenied for
 * one that does not, as for the archive), `ListObjectsV2` (`s3:ListBucket` with `s3:prefix`
 * `backups/<tenantId>/<prefix>`) and `DeleteObjects` (`s3:DeleteObject` on each key,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html). S3 asks KMS on the
 * caller's behalf, so the KMS requests carry `kms:ViaService` = `s3.<region>.amazonaws.com`
 * (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service);
 * the SSE-KMS permissions: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html.
 */
export function guardedBackupStore(
  inner: BackupStore,
  caller: Caller,
  bucket: string,
  keyArn: string,
): BackupStore {
  const arn = arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  const bucketArn = arn.s3Bucket(bucket);
  const objectArn = (tenantId: string, key: string) =>
    arn.s3Object(bucket, `backups/${tenantId}/${checkedKey(tenantId, key)}`);
  const viaS3 = { 'kms:ViaService': `s3.${LOCAL_REGION}.amazonaws.com` };
  return {
    async put(tenantId, key, body) {
      await demand(caller, 's3', { action: 's3:PutObject', resource: objectArn(tenantId, key), context: {} });
      await demand(caller, 'kms', { action: 'kms:GenerateDataKey', resource: keyArn, context: viaS3 });
      return inner.put(tenantId, key, body);
    },
    async get(tenantId, key) {
      await demand(caller, 's3', { action: 's3:GetObject', resource: objectArn(tenantId, key), context: {} });
      const found = await inner.get(tenantId, key);
      if (found === null) {
        await demand(caller, 's3', { action: 's3:ListBucket', resource: bucketArn, context: {} });
      } else {
        await demand(caller, 'kms', { action: 'kms:Decrypt', resource: keyArn, context: viaS3 });
      }
      return found;
    },
    async list(tenantId, prefix) {
      await demand(caller, 's3', {
        action: 's3:ListBucket',
        resource: bucketArn,
        context: { 's3:prefix': `backups/${tenantId}/${checkedKey(tenantId, prefix, { prefix: true })}` },
      });
      return inner.list(tenantId, prefix);
    },
    async delete(tenantId, keys) {
      for (const key of keys) {
        await demand(caller, 's3', {
          action: 's3:DeleteObject',
          resource: objectArn(tenantId, key),
          context: {},
        });
      }
      return inner.delete(tenantId, keys);
    },
  };
}

/**
 * The dead-letter sink as `SqsDeadLetterSink` calls SQS: `SendMessage` on the queue.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsqs.html
 */
export function guardedDeadLetters(inner: DeadLetterSink, caller: Caller, queueArn: string): DeadLetterSink {
  return {
    async write(entry) {
      await demand(caller, 'sqs', { action: 'sqs:SendMessage', resource: queueArn, context: {} });
      return inner.write(entry);
    },
  };
}
