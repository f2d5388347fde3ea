import { createHash, randomUUID } from 'node:crypto';
import { type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { RecordsHandler } from '#shared/composition/record-consumers';
import { auditPartition } from '#shared/records/audit-store';

export type BusEvent = EventBridgeEvent<string, unknown>;
export interface Definition {
  readonly source: string;
  readonly detailType: string;
}

/** An EventBridge event as the bus delivers it (a new id unless given). */
export const busEvent = (definition: Definition, detail: unknown, id: string = randomUUID()): BusEvent => ({
  version: '0',
  id,
  'detail-type': definition.detailType,
  source: definition.source,
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'local',
  resources: [],
  detail,
});

/** The SQS message the rule's queue hands the consumer for `body` (the event, or any text). */
export function sqsRecordOf(
  body: BusEvent | string,
  receiveCount = 1,
  messageId: string = randomUUID(),
): SQSRecord {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    messageId,
    receiptHandle: randomUUID(),
    body: text,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(text).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:records',
    awsRegion: 'us-east-1',
  };
}

export const sqsEventOf = (records: readonly SQSRecord[]): SQSEvent => ({ Records: [...records] });

/**
 * What a batch invocation left for SQS to redeliver: the ids its partial batch response names, or
 * every id when the handler threw (a whole-batch failure).
 */
export async function failedIdsOf(handler: RecordsHandler, records: readonly SQSRecord[]): Promise<string[]> {
  try {
    const response: SQSBatchResponse = await handler(sqsEventOf(records));
    return response.batchItemFailures.map((failure) => failure.itemIdentifier);
  } catch {
    return records.map((record) => record.messageId);
  }
}

/**
 * Delivers events as SQS would until each is done: one batch of them, then the failed ones again
 * (their receive count one higher) until none fails or `attempts` run out; returns what still failed.
 */
export async function deliverUntilDone(
  handler: RecordsHandler,
  events: readonly (BusEvent | string)[],
  attempts = 20,
): Promise<string[]> {
  let pending = events.map((event) => sqsRecordOf(event));
  for (let attempt = 1; pending.length > 0 && attempt <= attempts; attempt++) {
    const failed = new Set(await failedIdsOf(handler, pending));
    pending = pending
      .filter((record) => failed.has(record.messageId))
      .map((record) => sqsRecordOf(record.body, attempt + 1, record.messageId));
    if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return pending.map((record) => record.messageId);
}

/** A tenant id of the control database's shape that no tenant has. */
export const fakeTenant = () =>
  `t_${randomUUID()
    .replace(/[^a-z2-7]/g, '')
    .padEnd(20, 'a')
    .slice(0, 20)}`;

/** The audit items of a tenant's partition, read straight from the audit table. */
export async function auditItemsOf(dynamo: DynamoDBClient, table: string, tenantId: string) {
  const result = await dynamo.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: auditPartition(tenantId) } },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}
