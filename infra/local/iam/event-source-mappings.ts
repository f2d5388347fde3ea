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

/**
 * What Lambda answers CreateEventSourceMapping for a setting it refuses: a value outside the API
 * model's range is a `ValidationException` ("1 validation error detected: …", as for every AWS JSON
 * API), a combination Lambda refuses is an `InvalidParameterValueException`.
 */
export class InvalidEventSourceMapping extends Error {
  constructor(
    message: string,
    name: 'InvalidParameterValueException' | 'ValidationException' = 'InvalidParameterValueException',
  ) {
    super(message);
    this.name = name;
  }
}

/** The API model's range of a mapping's number, in the words of AWS's request validation. */
const RANGES = [
  { member: 'batchSize', min: 1, max: 10_000 },
  { member: 'maximumBatchingWindowInSeconds', min: 0, max: 300 },
] as const;

function outOfRange(values: Record<(typeof RANGES)[number]['member'], number>): string | undefined {
  const errors = RANGES.flatMap(({ member, min, max }) => {
    const value = values[member];
    const at = `Value '${value}' at '${member}' failed to satisfy constraint: Member must have value`;
    if (value < min) return [`${at} greater than or equal to ${min}`];
    if (value > max) return [`${at} less than or equal to ${max}`];
    return [];
  });
  if (errors.length === 0) return undefined;
  return `${errors.length} validation error${errors.length === 1 ? '' : 's'} detected: ${errors.join('; ')}`;
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
 * Every SQS event source mapping of the Tenantry functions, validated as Lambda validates one, in
 * Lambda's words: a batch size of 1 to 10,000 (standard queue) and a window of 0 to 300 s (the API
 * model's ranges, checked first), a batch size above 10 only with a batching window
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html), and a function
 * timeout no longer than the queue's visibility timeout
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html).
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
      const invalid = outOfRange({ batchSize, maximumBatchingWindowInSeconds: batchingWindowSeconds });
      if (invalid) throw new InvalidEventSourceMapping(`${where}: ${invalid}`, 'ValidationException');
      if (batchSize > 10 && batchingWindowSeconds < 1) {
        throw new InvalidEventSourceMapping(
          `${where}: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10`,
        );
      }
      if (functionTimeoutSeconds > visibilityTimeoutSeconds) {
        throw new InvalidEventSourceMapping(
          `${where}: Queue visibility timeout: ${visibilityTimeoutSeconds} seconds is less than Function timeout: ${functionTimeoutSeconds} seconds`,
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
