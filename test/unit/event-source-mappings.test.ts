import { beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '#infra/local/iam/access';
import type { TemplateStack } from '#infra/local/iam/cfn-intrinsics';
import { synthesizeAssembly } from '#infra/local/iam/cloud-assembly';
import {
  checkMappingPermissions,
  type EventSourceMapping,
  eventSourceMappingsOf,
  InvalidEventSourceMapping,
} from '#infra/local/iam/event-source-mappings';
import { generatedPhysicalNames } from '#infra/local/iam/local-names';
import { parsePolicyDocument } from '#infra/local/iam/policy-document';
import { createTemplateAuthorizer } from '#infra/local/iam/template-authorizer';
import {
  type CloudAssemblyTemplates,
  type FunctionPolicies,
  functionPoliciesOf,
} from '#infra/local/iam/template-policies';
import { RECORDS_QUEUE_DELIVERY, VISIBILITY_TIMEOUT_FACTOR } from '#shared/events/delivery-policy';
import { subscriptions } from '#shared/events/subscriptions';

/*
 * The local queues obey the templates' SQS event source mappings, validated as Lambda's
 * CreateEventSourceMapping validates them: the API model's ranges (BatchSize 1 to 10,000,
 * MaximumBatchingWindowInSeconds 0 to 300) as a ValidationException, a batch size above 10 without
 * a window and a function timeout above the queue's visibility timeout as an
 * InvalidParameterValueException, in Lambda's words
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html); and a role that may not
 * read the queue refused as CreateEventSourceMapping refuses it.
 */

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

const SCOPE = { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION };
const queueArn = (name: string) => `arn:aws:sqs:us-east-1:000000000000:${name}`;

describe('eventSourceMappingsOf the synthesized app', () => {
  let assembly: CloudAssemblyTemplates;
  let functions: FunctionPolicies[];
  let mappings: EventSourceMapping[];

  beforeAll(async () => {
    // Arrange: one in-process synthesis, the queues named as CloudFormation names an unnamed one.
    assembly = await synthesizeAssembly({ stage: 'dev' });
    functions = functionPoliciesOf(assembly, { fallbackPhysical: generatedPhysicalNames(SCOPE) });
    mappings = eventSourceMappingsOf(assembly, functions);
  });

  /** The template's own mapping, queue and function of a handler entry. */
  const templateOf = (entry: string) => {
    for (const stack of assembly.stacks) {
      const resources = (stack.template as { Resources: Record<string, Resource> }).Resources;
      const fn = functions.find((candidate) => candidate.stack === stack.name && candidate.entry === entry);
      if (!fn) continue;
      const mapping = Object.values(resources).find(
        (resource) =>
          resource.Type === 'AWS::Lambda::EventSourceMapping' &&
          (resource.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fn.functionLogicalId,
      );
      const source = mapping?.Properties?.EventSourceArn as { 'Fn::GetAtt': [string, string] } | undefined;
      const queueId = source?.['Fn::GetAtt'][0] ?? '';
      return {
        stack: stack.name,
        mapping: mapping?.Properties ?? {},
        queueId,
        queue: resources[queueId]?.Properties ?? {},
        function: resources[fn.functionLogicalId]?.Properties ?? {},
      };
    }
    throw new Error(`${entry} has no function in the templates`);
  };

  it('finds one mapping per subscription, each on its consumer', () => {
    expect(mappings.map((mapping) => mapping.entry).sort()).toEqual(
      subscriptions.map((subscription) => subscription.handler).sort(),
    );
  });

  it("gives the RecordTelemetry consumer its template's numbers: batch, window, visibility, receives", () => {
    // Arrange
    const template = templateOf('events/record-telemetry');
    const queueName = `${template.stack}-${template.queueId}`;
    // Act
    const mapping = mappings.find((candidate) => candidate.entry === 'events/record-telemetry');
    // Assert: the template's values…
    expect(mapping).toEqual({
      entry: 'events/record-telemetry',
      functionTimeoutSeconds: template.function.Timeout,
      queueName,
      queueArn: queueArn(queueName),
      visibilityTimeoutSeconds: template.queue.VisibilityTimeout,
      maxReceiveCount: (template.queue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
      batchSize: template.mapping.BatchSize,
      batchingWindowSeconds: template.mapping.MaximumBatchingWindowInSeconds,
      reportBatchItemFailures: true,
    });
    // …which are the subscription's delivery, and six times the function's timeout.
    expect(mapping).toMatchObject({
      batchSize: RECORDS_QUEUE_DELIVERY.batchSize,
      batchingWindowSeconds: RECORDS_QUEUE_DELIVERY.batchingWindowSeconds,
      maxReceiveCount: RECORDS_QUEUE_DELIVERY.maxReceiveCount,
      visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * Number(template.function.Timeout),
    });
    expect(template.mapping.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it("lets every consumer's own role read its queue, as the boot check asks", async () => {
    const authorizer = createTemplateAuthorizer(functions);
    for (const mapping of mappings) {
      const key = authorizer.credentialsFor(mapping.entry).accessKeyId;
      await expect(checkMappingPermissions(mapping, authorizer.authorize, key)).resolves.toBeUndefined();
    }
  });
});

describe('eventSourceMappingsOf a hand-made template', () => {
  const consumer = (stack = 'S'): FunctionPolicies => ({
    entry: 'x/consumer',
    stack,
    functionLogicalId: 'Fn',
    functionName: 'consumer',
    role: {
      stack,
      logicalId: 'Role',
      name: 'ConsumerRole',
      arn: 'arn:aws:iam::000000000000:role/ConsumerRole',
      tags: {},
    },
    policies: [],
    unresolved: [],
    environmentKeys: [],
  });

  /** One stack: the consumer function, its queue and the mapping between them. */
  const stackWith = (
    mapping: Record<string, unknown>,
    queue: Record<string, unknown> = { VisibilityTimeout: 60 },
    fn: Record<string, unknown> = { Timeout: 10 },
    extra: Record<string, Resource> = {},
  ): CloudAssemblyTemplates => {
    const stack: TemplateStack = {
      name: 'S',
      template: {
        Resources: {
          Fn: { Type: 'AWS::Lambda::Function', Properties: fn },
          Queue: { Type: 'AWS::SQS::Queue', Properties: queue },
          Mapping: {
            Type: 'AWS::Lambda::EventSourceMapping',
            Properties: {
              FunctionName: { Ref: 'Fn' },
              EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
              ...mapping,
            },
          },
          ...extra,
        },
      },
    };
    return { stacks: [stack] };
  };
  const mappingsOf = (assembly: CloudAssemblyTemplates) => eventSourceMappingsOf(assembly, [consumer()]);
  const refusalOf = (assembly: CloudAssemblyTemplates) => {
    try {
      mappingsOf(assembly);
    } catch (error) {
      return error;
    }
    throw new Error('the mapping was accepted');
  };

  it("reads the queue's name and settings, and Lambda's defaults where the template sets none", () => {
    // Act: no BatchSize, window, response types, redrive policy; a named queue.
    const [mapping, ...more] = mappingsOf(stackWith({}, { QueueName: 'orders', VisibilityTimeout: 60 }));
    // Assert
    expect(more).toEqual([]);
    expect(mapping).toEqual({
      entry: 'x/consumer',
      functionTimeoutSeconds: 10,
      queueName: 'orders',
      queueArn: queueArn('orders'),
      visibilityTimeoutSeconds: 60,
      batchSize: 10,
      batchingWindowSeconds: 0,
      reportBatchItemFailures: false,
    });
  });

  it('reads the redrive policy, the window and ReportBatchItemFailures, and names an unnamed queue <stack>-<id>', () => {
    const [mapping] = mappingsOf(
      stackWith(
        {
          BatchSize: 500,
          MaximumBatchingWindowInSeconds: 20,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        },
        { VisibilityTimeout: 60, RedrivePolicy: { deadLetterTargetArn: 'x', maxReceiveCount: 4 } },
      ),
    );
    expect(mapping).toMatchObject({
      queueName: 'S-Queue',
      queueArn: queueArn('S-Queue'),
      batchSize: 500,
      batchingWindowSeconds: 20,
      maxReceiveCount: 4,
      reportBatchItemFailures: true,
    });
  });

  it('skips a mapping of a function that is not a Tenantry function, or on a source that is not a queue', () => {
    const notOurs = stackWith({ FunctionName: { Ref: 'Other' } }, undefined, undefined, {
      Other: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 10 } },
    });
    const stream = stackWith(
      { EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] } },
      undefined,
      undefined,
      {
        Table: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      },
    );
    expect(mappingsOf(notOurs)).toEqual([]);
    expect(mappingsOf(stream)).toEqual([]);
  });

  it("refuses a function timeout above the queue's visibility timeout, in Lambda's words", () => {
    const refusal = refusalOf(stackWith({}, { VisibilityTimeout: 30 }, { Timeout: 60 }));
    expect(refusal).toBeInstanceOf(InvalidEventSourceMapping);
    expect(refusal).toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'S/Mapping: Queue visibility timeout: 30 seconds is less than Function timeout: 60 seconds',
    });
  });

  it('takes a function timeout equal to the visibility timeout', () => {
    expect(mappingsOf(stackWith({}, { VisibilityTimeout: 30 }, { Timeout: 30 }))).toHaveLength(1);
  });

  it("refuses a batch size above 10 without a batching window, in Lambda's words, and takes it with one", () => {
    const refusal = refusalOf(stackWith({ BatchSize: 11 }));
    expect(refusal).toBeInstanceOf(InvalidEventSourceMapping);
    expect(refusal).toMatchObject({
      name: 'InvalidParameterValueException',
      message:
        'S/Mapping: Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10',
    });
    expect(mappingsOf(stackWith({ BatchSize: 11, MaximumBatchingWindowInSeconds: 1 }))).toHaveLength(1);
    expect(mappingsOf(stackWith({ BatchSize: 10 }))).toHaveLength(1);
  });

  it("refuses a batch size of 10,001 as the API model's range, before any other check", () => {
    // The window is set (so only the range is wrong), and the timeout too high: the range comes first.
    const refusal = refusalOf(
      stackWith(
        { BatchSize: 10_001, MaximumBatchingWindowInSeconds: 1 },
        { VisibilityTimeout: 30 },
        { Timeout: 60 },
      ),
    );
    expect(refusal).toBeInstanceOf(InvalidEventSourceMapping);
    expect(refusal).toMatchObject({
      name: 'ValidationException',
      message:
        "S/Mapping: 1 validation error detected: Value '10001' at 'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
    });
    expect(
      mappingsOf(stackWith({ BatchSize: 10_000, MaximumBatchingWindowInSeconds: 300 })).map(
        (mapping) => mapping.batchSize,
      ),
    ).toEqual([10_000]);
  });

  it('names every value out of its range, the window too', () => {
    const refusal = refusalOf(stackWith({ BatchSize: 0, MaximumBatchingWindowInSeconds: 301 }));
    expect(refusal).toMatchObject({
      name: 'ValidationException',
      message:
        "S/Mapping: 2 validation errors detected: Value '0' at 'batchSize' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '301' at 'maximumBatchingWindowInSeconds' failed to satisfy constraint: Member must have value less than or equal to 300",
    });
  });
});

describe('checkMappingPermissions', () => {
  const mapping: EventSourceMapping = {
    entry: 'x/consumer',
    functionTimeoutSeconds: 10,
    queueName: 'orders',
    queueArn: queueArn('orders'),
    visibilityTimeoutSeconds: 60,
    batchSize: 10,
    batchingWindowSeconds: 0,
    reportBatchItemFailures: true,
  };
  /** An authorizer whose one function's role allows `actions` on the queue. */
  const roleAllowing = (actions: string[]) => {
    const fn: FunctionPolicies = {
      entry: 'x/consumer',
      stack: 'S',
      functionLogicalId: 'Fn',
      functionName: 'consumer',
      role: {
        stack: 'S',
        logicalId: 'Role',
        name: 'ConsumerRole',
        arn: 'arn:aws:iam::000000000000:role/ConsumerRole',
        tags: {},
      },
      policies: [
        {
          name: 'P',
          source: 'S/P',
          document: parsePolicyDocument({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: actions, Resource: mapping.queueArn }],
          }),
        },
      ],
      unresolved: [],
      environmentKeys: [],
    };
    const authorizer = createTemplateAuthorizer([fn]);
    return { authorize: authorizer.authorize, key: authorizer.credentialsFor('x/consumer').accessKeyId };
  };

  it('takes a role that may receive, delete and read the attributes of the queue', async () => {
    const { authorize, key } = roleAllowing([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
    ]);
    await expect(checkMappingPermissions(mapping, authorize, key)).resolves.toBeUndefined();
  });

  it('refuses a role without sqs:DeleteMessage as CreateEventSourceMapping does', async () => {
    const { authorize, key } = roleAllowing(['sqs:ReceiveMessage', 'sqs:GetQueueAttributes']);
    const refusal = await checkMappingPermissions(mapping, authorize, key).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(InvalidEventSourceMapping);
    expect(refusal).toMatchObject({ name: 'InvalidParameterValueException' });
    expect((refusal as Error).message).toMatch(
      /^The provided execution role does not have permissions to call DeleteMessage on SQS /,
    );
    expect((refusal as Error).message).toContain('x/consumer reading orders');
  });

  it('names ReceiveMessage first for a role that may do nothing on the queue', async () => {
    const { authorize, key } = roleAllowing(['sqs:SendMessage']);
    await expect(checkMappingPermissions(mapping, authorize, key)).rejects.toThrow(
      'The provided execution role does not have permissions to call ReceiveMessage on SQS',
    );
  });
});
