import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BusEvent, LocalEventBus, startEventBusEndpoint } from '#infra/local/event-bus';
import { parsePolicyDocument } from '#infra/local/iam/policy-document';
import { createTemplateAuthorizer } from '#infra/local/iam/template-authorizer';
import type { FunctionPolicies } from '#infra/local/iam/template-policies';
import { catalog } from '#shared/events/events';

/*
 * The local PutEvents endpoint asks the IAM stand-in `events:PutEvents` on each entry's bus, with
 * `events:source` and `events:detail-type` in the context
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html).
 * A refused entry is answered with the per-entry code AccessDeniedException
 * (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEventsResultEntry.html); a
 * call refused for every entry is AccessDeniedException for the whole call.
 */

const BUS = 'tenantry-test';
const busArn = (name: string) => `arn:aws:events:us-east-1:000000000000:event-bus/${name}`;

const publisher: FunctionPolicies = {
  entry: 'x/publisher',
  stack: 'S',
  functionLogicalId: 'PublisherFn',
  functionName: 'publisher',
  role: {
    stack: 'S',
    logicalId: 'Role',
    name: 'PublisherRole',
    arn: 'arn:aws:iam::000000000000:role/PublisherRole',
    tags: {},
  },
  policies: [
    {
      name: 'P',
      source: 'S/P',
      document: parsePolicyDocument({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: busArn(BUS),
            Condition: { StringEquals: { 'events:source': 'tenantry.api' } },
          },
        ],
      }),
    },
  ],
  unresolved: [],
  environmentKeys: [],
};

const auditDetail = JSON.stringify({
  tenantId: 't1',
  userId: 'u1',
  action: 'a',
  resource: '/tenants/t1',
  outcome: 'success',
  statusCode: 200,
  requestId: 'r1',
  at: new Date().toISOString(),
});

describe('PutEvents on the local bus, judged by the caller’s policies', () => {
  const authorizer = createTemplateAuthorizer([publisher]);
  const delivered: BusEvent[] = [];
  let dir: string;
  let endpoint: { endpoint: string; stop(): Promise<void> };
  let bus: LocalEventBus;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'tenantry-bus-iam-'));
    bus = new LocalEventBus({
      busName: BUS,
      catalog,
      subscriptions: [
        {
          name: 'Audit',
          detailTypes: ['Audit Record'],
          handler: 'x/audit',
          needs: [],
          delivery: { batchSize: 10, batchingWindowSeconds: 0, maxReceiveCount: 3 },
        },
      ],
      deadLetterFile: path.join(dir, 'dlq.jsonl'),
      failedInvocationsDir: path.join(dir, 'failed'),
      timeScale: 0.00001,
      // The subscription's queue hands the consumer SQS batches whose bodies are the events.
      deliver: async (_subscription, event) => {
        delivered.push(...event.Records.map((record) => JSON.parse(record.body) as BusEvent));
      },
    });
    endpoint = await startEventBusEndpoint(bus, {
      host: '127.0.0.1',
      port: 0,
      authorize: authorizer.authorize,
    });
  });
  afterAll(async () => {
    await endpoint.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const client = (accessKeyId: string) =>
    new EventBridgeClient({
      region: 'us-east-1',
      endpoint: endpoint.endpoint,
      credentials: { accessKeyId, secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  const key = authorizer.credentialsFor('x/publisher').accessKeyId;
  const entry = (source: string, eventBusName = BUS) => ({
    EventBusName: eventBusName,
    Source: source,
    DetailType: 'Audit Record',
    Detail: auditDetail,
  });

  it('takes an allowed entry and refuses the others in place, delivering only the allowed one', async () => {
    delivered.length = 0;
    // Act: allowed, wrong source, wrong bus
    const answer = await client(key).send(
      new PutEventsCommand({
        Entries: [entry('tenantry.api'), entry('tenantry.events'), entry('tenantry.api', 'other')],
      }),
    );
    await bus.drain();
    // Assert
    expect(answer.FailedEntryCount).toBe(2);
    expect(answer.Entries?.[0]?.EventId).toBeDefined();
    expect(answer.Entries?.[1]).toEqual({
      ErrorCode: 'AccessDeniedException',
      ErrorMessage: `User: ${authorizer.credentialsFor('x/publisher').sessionArn} is not authorized to perform: events:PutEvents on resource: ${busArn(BUS)} because no identity-based policy allows the events:PutEvents action`,
    });
    expect(answer.Entries?.[2]?.ErrorCode).toBe('AccessDeniedException');
    expect(answer.Entries?.[2]?.ErrorMessage).toContain(`on resource: ${busArn('other')}`);
    expect(delivered.map((event) => event.id)).toEqual([answer.Entries?.[0]?.EventId]);
    expect(delivered[0]).toMatchObject({ source: 'tenantry.api', 'detail-type': 'Audit Record' });
  });

  it('refuses the whole call when no entry is allowed, delivering nothing', async () => {
    delivered.length = 0;
    const refused = await client(key)
      .send(new PutEventsCommand({ Entries: [entry('tenantry.events')] }))
      .catch((error: Error) => error);
    await bus.drain();
    expect((refused as Error).name).toBe('AccessDeniedException');
    expect((refused as Error).message).toContain('is not authorized to perform: events:PutEvents');
    expect(delivered).toHaveLength(0);
  });

  it('allows a key of no function (an administrator’s), as the stand-ins do', async () => {
    delivered.length = 0;
    const answer = await client('operator').send(
      new PutEventsCommand({ Entries: [entry('tenantry.api'), entry('tenantry.api', 'other')] }),
    );
    await bus.drain();
    expect(delivered.map((event) => event.id)).toEqual([answer.Entries?.[0]?.EventId]);
    // The other bus does not exist locally: refused by the bus, not by IAM.
    expect(answer.Entries?.map((result) => result.ErrorCode)).toEqual([
      undefined,
      'ResourceNotFoundException',
    ]);
  });
});
