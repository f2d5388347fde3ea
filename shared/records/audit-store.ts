import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, EventDetail } from '#shared/events/events';

export type AuditDetail = EventDetail<typeof AuditRecord>;

export const auditPartition = (tenantId: string | null) => `TENANT#${tenantId ?? 'platform'}`;

/**
 * Audit records in DynamoDB, keyed for "this tenant, this time range": the partition is the
 * tenant, the sort key the time and then the event id. The key is a function of the event alone,
 * so a replayed event hits the same key and the conditional put keeps exactly one record.
 */
export class AuditStore {
  readonly #documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  /** Returns false when the event was already recorded (a replay). */
  async record(eventId: string, detail: AuditDetail): Promise<boolean> {
    const expiresAt = Math.floor(Date.parse(detail.at) / 1000) + this.retentionDays * 86_400;
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: auditPartition(detail.tenantId),
            sk: `${detail.at}#${eventId}`,
            eventId,
            ...detail,
            expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
