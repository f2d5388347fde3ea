/**
 * The SQS event source mappings of a synthesized cloud assembly, with the settings of their queues
 * and functions: what the local queues obey, so that a batch size, window, visibility timeout or
 * redrive policy changed in the CDK app changes the local platform too.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-eventsourcemapping.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html
 */
import type { QueueSettings } from '../sqs-queue.ts';
import { type Authorize, LOCAL_ACCOUNT_ID, LOCAL_REGION } from './access.ts';
import type { TemplateStack } from './cfn-intrinsics.ts';
import { arnsIn } from './physical-names.ts';
import type { CloudAssemblyTemplates, FunctionPolicies } from './template-policies.ts';

export interface EventSourceMapping extends QueueSettings {
  /** The handler entry of the function the mapping invokes. */
  readonly entry: string;
  readonly functionTimeoutSeconds: number;
}

/** What Lambda answers CreateEventSourceMapping for a setting it refuses. */
export class InvalidEventSourceMapping extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidParameterValueException';
  }
}

interface Resource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
}

const logicalIdOf = (value: unknown): string | undefined => {
  if (value && typeof value === 'object') {
    const ref = (value as { Ref?: unknown }).Ref;
    if (typeof ref === 'string') return ref;
    const getAtt = (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  return undefined;
};

const resourcesOf = (stack: TemplateStack): Record<string, Resource> =>
  (stack.template as { Resources?: Record<string, Resource> }).Resources ?? {};

/**
 * Every SQS event source mapping of the Tenantry functions, validated as Lambda validates one: the
 * function's timeout may not exceed the queue's visibility timeout
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html), a batch size above
 * 10 needs a batching window, at most 10,000 (standard queue) and a window of at most 300 s
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html).
 */
export function eventSourceMappingsOf(
  assembly: CloudAssemblyTemplates,
  functions: readonly FunctionPolicies[],
): EventSourceMapping[] {
  const arn = arnsIn({ accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION });
  const mappings: EventSourceMapping[] = [];
  for (const stack of assembly.stacks) {
    const resources = resourcesOf(stack);
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      const properties = resource.Properties ?? {};
      const functionId = logicalIdOf(properties.FunctionName);
      const queueId = logicalIdOf(properties.EventSourceArn);
      const fn = functions.find(
        (candidate) => candidate.stack === stack.name && candidate.functionLogicalId === functionId,
      );
      const queue = queueId ? resources[queueId] : undefined;
      if (!fn || !queueId || queue?.Type !== 'AWS::SQS::Queue') continue;
      const queueProperties = queue.Properties ?? {};
      // CloudFormation names a queue without QueueName `<stack>-<logical id>-<suffix>`; locally without the suffix.
      const queueName =
        typeof queueProperties.QueueName === 'string'
          ? queueProperties.QueueName
          : `${stack.name}-${queueId}`;
      const functionTimeoutSeconds = Number(resources[functionId ?? '']?.Properties?.Timeout ?? 3);
      const visibilityTimeoutSeconds = Number(queueProperties.VisibilityTimeout ?? 30);
      const batchSize = Number(properties.BatchSize ?? 10);
      const batchingWindowSeconds = Number(properties.MaximumBatchingWindowInSeconds ?? 0);
      const where = `${stack.name}/${logicalId}`;
      if (functionTimeoutSeconds > visibilityTimeoutSeconds) {
        throw new InvalidEventSourceMapping(
          `${where}: Queue visibility timeout: ${visibilityTimeoutSeconds} seconds is less than Function timeout: ${functionTimeoutSeconds} seconds`,
        );
      }
      if (batchSize > 10 && batchingWindowSeconds < 1) {
        throw new InvalidEventSourceMapping(
          `${where}: a batch size above 10 requires MaximumBatchingWindowInSeconds of at least 1`,
        );
      }
      if (batchSize < 1 || batchSize > 10_000 || batchingWindowSeconds < 0 || batchingWindowSeconds > 300) {
        throw new InvalidEventSourceMapping(
          `${where}: BatchSize ${batchSize} (1 to 10,000) or MaximumBatchingWindowInSeconds ${batchingWindowSeconds} (0 to 300) out of range`,
        );
      }
      const redrive = queueProperties.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
      const responseTypes = properties.FunctionResponseTypes;
      mappings.push({
        entry: fn.entry,
        functionTimeoutSeconds,
        queueName,
        queueArn: arn.sqsQueue(queueName),
        visibilityTimeoutSeconds,
        ...(redrive?.maxReceiveCount !== undefined
          ? { maxReceiveCount: Number(redrive.maxReceiveCount) }
          : {}),
        batchSize,
        batchingWindowSeconds,
        reportBatchItemFailures:
          Array.isArray(responseTypes) && responseTypes.includes('ReportBatchItemFailures'),
      });
    }
  }
  return mappings;
}

/** What Lambda's pollers call on the queue with the function's role. */
const CONSUMER_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'] as const;

/**
 * Refuses a mapping whose function's role may not read its queue, as CreateEventSourceMapping
 * does (so a deployment fails): "The provided execution role does not have permissions to call
 * ReceiveMessage on SQS", InvalidParameterValueException (https://github.com/aws/aws-cdk/issues/6770;
 * the actions: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
 */
export async function checkMappingPermissions(
  mapping: EventSourceMapping,
  authorize: Authorize,
  accessKeyId: string | undefined,
): Promise<void> {
  for (const action of CONSUMER_ACTIONS) {
    const decision = await authorize({ accessKeyId, action, resource: mapping.queueArn, context: {} });
    if (!decision.allowed) {
      throw new InvalidEventSourceMapping(
        `The provided execution role does not have permissions to call ${action.slice('sqs:'.length)} on SQS (${mapping.entry} reading ${mapping.queueName})`,
      );
    }
  }
}
