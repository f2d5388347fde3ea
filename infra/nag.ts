import { createHash } from 'node:crypto';
import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { provisioningStateMachineName, TENANT_ID_TAG } from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import { TENANT_SESSION_TAG, tenantSecretPrefix } from '#infra/stacks/provisioning-stack';
import type { TenantryApp } from '#infra/tenantry-app';

/**
 * Every cdk-nag acknowledgement of the app, in one place. Each names one rule (and, for
 * granular rules, the one finding) on the narrowest construct it applies to, with the reason a
 * reviewer needs. Nothing is acknowledged for a whole stack.
 */

/** Reasons shorter than this say nothing a reviewer can check. */
export const MIN_REASON_LENGTH = 20;

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`cdk-nag acknowledgement ${id} on ${scope.node.path} needs a real reason`);
  }
  Validations.of(scope).acknowledge({ id, reason });
}

const XRAY_REASON =
  'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
  'permissions, so the statement CDK adds for active tracing must name "*". A test asserts that ' +
  'X-Ray and log delivery are the only "*" resources.';

/**
 * How cdk-nag names the ARN of `resource` when another stack imports it: the export CDK makes
 * for the reference (`<stack>:ExportsOutputFnGetAtt<logicalId>Arn<hash>`, the hash being the
 * first 8 hex digits of the MD5 of the output's construct path, as CDK's makeUniqueId does).
 * The nag test fails if CDK ever names it otherwise.
 */
function importedArn(resource: CfnResource): string {
  const stack = Stack.of(resource);
  const logicalId = stack.resolve(resource.logicalId) as string;
  const outputPath = `Exports/Output{"Fn::GetAtt":["${logicalId}","Arn"]}`;
  const hash = createHash('md5').update(outputPath).digest('hex').slice(0, 8).toUpperCase();
  return `${stack.stackName}:ExportsOutputFnGetAtt${logicalId}Arn${hash}`;
}

/** `<logicalId.Arn>`, cdk-nag's name of a same-stack resource's ARN. */
const localArn = (resource: CfnResource) =>
  `<${Stack.of(resource).resolve(resource.logicalId) as string}.Arn>`;

const EXPORTS_OBJECTS_REASON =
  'Finance exports are one object per closed month (usage-exports/<YYYY-MM>.csv), named when a ' +
  'month closes, so the statement names the usage-exports/ prefix of the exports bucket and ' +
  'nothing else; read routes get s3:GetObject only, the month close s3:GetObject and ' +
  's3:PutObject (never delete).';

const BACKUP_OBJECTS_REASON =
  'Tenant backups are many objects per backup (backups/<tenantId>/<backupId>/<database>/<table>/' +
  'part-NNNNN.ndjson.gz and a manifest), named while a backup runs, so the statement names the ' +
  'backups/ prefix of the exports bucket and nothing else; the store builds every key under the ' +
  'tenant it is called for (checkedKey), and the objects are encrypted with the backups KMS key, ' +
  'usable only through S3 (kms:ViaService) and only by the functions that declare backupStore.';

const FAILED_INVOCATIONS_REASON =
  'This queue is itself a dead-letter path: the on-failure destination (EventInvokeConfig) of an ' +
  'asynchronously invoked function, holding the invocation records Lambda sends after its retries; ' +
  'nothing consumes it to redrive into another queue, and an alarm fires on its first message. ' +
  'cdk-nag only recognises queues named in another queue’s redrive policy.';

export function applyNagSuppressions(built: Omit<TenantryApp, 'nag'>): void {
  const { stage, policy, stateful, identity, api, events, provisioning } = built;
  acknowledgeConsoleFindings(built);

  const functions = built.app.node
    .findAll()
    .filter((c): c is TenantryFunction => c instanceof TenantryFunction);
  const declaring = (...needs: string[]) =>
    functions.filter((fn) => fn.needs.some((need) => needs.includes(need)));

  // Every Tenantry function: its role's default policy holds the X-Ray statement.
  for (const fn of functions) acknowledge(fn.role, 'AwsSolutions-IAM5[Resource::*]', XRAY_REASON);

  for (const fn of declaring('workflowHistory')) {
    acknowledge(
      fn.role,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${provisioningStateMachineName(stage)}:*]`,
      'The provisioning status route reads the executions of one state machine; execution names are ' +
        'per tenant (provision-<tenantId>) and the tenant is authorised before the call, so the ' +
        'statement names that state machine and only DescribeExecution and GetExecutionHistory.',
    );
  }

  if (!policy.deletionProtection) {
    for (const { cluster } of stateful.clusters) {
      acknowledge(
        cluster,
        'AwsSolutions-RDS10',
        'Deletion protection is on for every stage but dev: dev clusters are disposable and are torn ' +
          'down with `cdk destroy`; a test asserts protection on non-dev stages.',
      );
    }
  }

  acknowledge(
    identity.userPool,
    'AwsSolutions-COG2',
    'MFA is OPTIONAL with TOTP by product decision: tenants self-register and members invited by ' +
      'email must be able to sign in before enrolling a second factor. Enforcing MFA per tenant is ' +
      'a tenant setting, not a pool-wide switch.',
  );
  acknowledge(
    identity.userPool,
    'AwsSolutions-COG8',
    'The pool uses the ESSENTIALS feature plan (V2 pre-token-generation events, no per-MAU threat ' +
      'protection charge). PLUS is a prop of IdentityStack (featurePlan) for operators who want ' +
      'adaptive authentication and compromised-credential checks.',
  );

  for (const route of api.httpApi.node.findAll()) {
    if (route.node.id === 'GET--health' || route.node.id === 'GET--openapi.json') {
      acknowledge(
        route,
        'AwsSolutions-APIG4',
        'Public by contract (API.md): GET /health is the liveness probe and GET /openapi.json the ' +
          'published API description; neither returns tenant or user data.',
      );
    }
  }

  for (const consumer of events.consumers.consumers) {
    acknowledge(
      consumer.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of an EventBridge rule target; cdk-nag only ' +
        'recognises queues named in another queue’s redrive policy.',
    );
    acknowledge(
      consumer.failedMessagesQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the consumer queue (named in its redrive ' +
        'policy): messages the consumer failed on maxReceiveCount times end here, watched by an alarm.',
    );
  }

  // Audit, usage and metrics records (issue 7).
  acknowledge(
    events.telemetryDeadLetterQueue,
    'AwsSolutions-SQS3',
    'This queue is itself the dead-letter path of the telemetry publisher (records the bus did not ' +
      'take after a retry); nothing redrives into another queue from it, and an alarm watches it.',
  );
  const exportsObjects = `AwsSolutions-IAM5[Resource::${importedArn(
    stateful.exportsBucket.node.defaultChild as CfnResource,
  )}/usage-exports/*]`;
  for (const fn of declaring('exportArchive', 'exportArchiveWrite')) {
    acknowledge(fn.role, exportsObjects, EXPORTS_OBJECTS_REASON);
  }
  const backupObjects = `AwsSolutions-IAM5[Resource::${importedArn(
    stateful.exportsBucket.node.defaultChild as CfnResource,
  )}/backups/*]`;
  for (const fn of declaring('backupStore')) {
    acknowledge(fn.role, backupObjects, BACKUP_OBJECTS_REASON);
  }
  const archive = events.auditArchive;
  if (archive) {
    acknowledge(
      archive.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the audit archive rules (their Firehose ' +
        'target); cdk-nag only recognises queues named in another queue’s redrive policy.',
    );
    const archiveBucket = importedArn(stateful.auditArchiveBucket.node.defaultChild as CfnResource);
    for (const prefix of ['records', 'errors']) {
      acknowledge(
        archive.role,
        `AwsSolutions-IAM5[Resource::${archiveBucket}/${prefix}/*]`,
        'Firehose names each archive object itself (records/tenant=<tenant>/date=<day>/<stream>-' +
          '<timestamp>-<uuid>.gz, and errors/<error type>/<day>/… for what it could not partition or ' +
          'deliver), so its role names the two prefixes of the archive bucket it writes and nothing ' +
          'else: s3:PutObject, s3:GetObject and s3:AbortMultipartUpload, never a delete.',
      );
    }
  }
  const jobs = events.jobs;
  if (jobs) {
    acknowledge(
      jobs.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the records jobs schedules (EventBridge ' +
        'Scheduler targets); cdk-nag only recognises queues named in another queue’s redrive policy.',
    );
    for (const queue of jobs.failedInvocationsQueues) {
      acknowledge(queue, 'AwsSolutions-SQS3', FAILED_INVOCATIONS_REASON);
    }
    for (const job of [jobs.storageSnapshot, jobs.monthClose, jobs.backupSchedule]) {
      acknowledge(
        jobs.schedulerRole,
        `AwsSolutions-IAM5[Resource::${localArn(job.function.node.defaultChild as CfnResource)}:*]`,
        'The Scheduler Lambda target grants lambda:InvokeFunction on the job function and its ' +
          'versions and aliases (<arn>:*); the function is named, only its qualifiers are wildcarded.',
      );
    }
  }

  const tenantSecrets = `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${tenantSecretPrefix(stage)}*`;
  for (const fn of declaring('tenantSecretsCreate', 'tenantSecretsRead', 'tenantSecretsDelete')) {
    acknowledge(
      fn.role,
      `AwsSolutions-IAM5[Resource::${tenantSecrets}]`,
      'Provisioning creates one secret per tenant whose name is not known at deploy time; the ' +
        'wildcard is limited to this stage’s tenant prefix, and creating, reading and deleting a ' +
        `secret requires the ${TENANT_ID_TAG} tag (aws:RequestTag on create, secretsmanager:ResourceTag ` +
        'on use). Only the steps that create the secret, set the role password from it, or delete it ' +
        'have these statements. DescribeSecret (metadata, never a value) has no tag condition, so that ' +
        'a missing secret answers ResourceNotFoundException instead of AccessDeniedException.',
    );
  }
  acknowledge(
    provisioning.tenantAccessRole,
    `AwsSolutions-IAM5[Resource::${tenantSecrets}]`,
    'The tenant-access role serves every tenant, one session per tenant: the wildcard is limited to ' +
      `this stage’s tenant prefix, GetSecretValue only, and the secret’s ${TENANT_ID_TAG} tag must ` +
      `equal the session’s ${TENANT_SESSION_TAG} tag (StringEquals on \${aws:PrincipalTag/${TENANT_SESSION_TAG}}), ` +
      'so a session reads its own tenant’s secret and no other.',
  );
  acknowledge(
    stateful.controlAppSecret,
    'AwsSolutions-SMG4',
    'Secrets Manager rotation needs a rotation Lambda that connects to the database, inside the ' +
      'VPC, with a Secrets Manager VPC endpoint: the cluster has isolated subnets only and no ' +
      'function runs in the VPC (the Data API is the only path in). The migrator sets tenantry_app’s ' +
      'password from this secret each time it runs, so rotating is: put a new secret value, run ' +
      'the migrator (docs/identity-and-access.md). The master secret is rotated by RDS itself.',
  );
  acknowledge(
    stateful.poolAppSecret,
    'AwsSolutions-SMG4',
    'As for the control application secret: rotation needs a Lambda inside the VPC, which has ' +
      'isolated subnets only and no function in it. The migrator sets tenantry_pool_app’s password ' +
      'on every cluster from this secret each time it runs, so rotating is: put a new secret value, ' +
      'run the migrator (docs/isolation-modes.md).',
  );
  const migrator = provisioning.controlMigrationsProvider.onEventHandler.node.defaultChild as CfnResource;
  acknowledge(
    provisioning.controlMigrationsProviderRole,
    `AwsSolutions-IAM5[Resource::${localArn(migrator)}:*]`,
    'The custom resource provider framework (aws-cdk-lib Provider) invokes the control migrations ' +
      'function through grantInvoke, which names that function and its versions and aliases ' +
      '(<arn>:*); the function is named, only its qualifiers are wildcarded.',
  );
  acknowledge(
    provisioning.stateMachine.role,
    'AwsSolutions-IAM5[Resource::*]',
    'Step Functions logging and tracing: logs:CreateLogDelivery, logs:GetLogDelivery, ' +
      'logs:UpdateLogDelivery, logs:DeleteLogDelivery, logs:ListLogDeliveries, ' +
      'logs:PutResourcePolicy, logs:DescribeResourcePolicies, logs:DescribeLogGroups and the X-Ray ' +
      'actions do not support resource-level permissions (AWS Step Functions developer guide, ' +
      '"IAM policies for logging to CloudWatch Logs").',
  );
}

/** The web console's stacks (docs/console-hosting.md, "cdk-nag"). */
function acknowledgeConsoleFindings({ webConsole, webConsoleContent }: Omit<TenantryApp, 'nag'>): void {
  const distribution = webConsole.distribution;
  acknowledge(
    distribution,
    'AwsSolutions-CFR1',
    'No geo restriction: tenants and their members sign in from anywhere, and the distribution serves ' +
      'only the console’s static files (no data); who may use the API is decided by Cognito and the ' +
      'API’s authorizer, not by country.',
  );
  if (webConsole.webAclId === undefined) {
    acknowledge(
      distribution,
      'AwsSolutions-CFR2',
      'No WAF web ACL by default: the distribution serves the console’s static files from one private ' +
        'S3 origin, GET and HEAD only, with nothing dynamic for WAF rules to protect, and a web ACL costs ' +
        'a monthly fee plus a charge per request. ConsoleStack takes a webAclId for operators who want ' +
        'one (rate-based rules, IP reputation lists).',
    );
  }
  acknowledge(
    distribution,
    'AwsSolutions-CFR4',
    'The console is served on the distribution’s own *.cloudfront.net name with CloudFront’s default ' +
      'certificate, for which CloudFront fixes the viewer security policy at TLSv1 whatever ' +
      'MinimumProtocolVersion says (CloudFront API reference, ViewerCertificate); a stronger policy ' +
      '(TLSv1.2_2021) needs a custom domain with an ACM certificate, which this deployment does not ' +
      'have. HTTP is redirected to HTTPS, and HSTS keeps the browser on HTTPS.',
  );
  const bucket = importedArn(webConsole.bucket.node.defaultChild as CfnResource);
  acknowledge(
    webConsoleContent.role,
    `AwsSolutions-IAM5[Resource::${bucket}/*]`,
    'The console deployment syncs a whole folder into the console bucket (aws s3 sync --delete: ' +
      'the file names change with each web build), so it writes and deletes objects of that one bucket, ' +
      'which holds nothing but the console: s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload ' +
      'on its objects, s3:ListBucket on it. The bucket is versioned, so a delete is recoverable.',
  );
  acknowledge(
    webConsoleContent.handler,
    'AwsSolutions-L1',
    'CDK’s BucketDeployment handler (aws-cdk-lib 2.276): its Python code and the AWS CLI layer are ' +
      'CDK’s, and so is the runtime (Python 3.13), which BucketDeployment offers no property to change; ' +
      'it runs only during a deploy, as a CloudFormation custom resource, never for a request.',
  );
}
