import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, EventDetail } from '#shared/events/events';

export type AuditDetail = EventDetail<typeof AuditRecord>;

export interface AuditQuery {
  /** ISO timestamps, inclusive. */
  readonly from: string;
  readonly to: string;
  readonly action?: string;
  /** Any of these actions (one Query, `action IN (...)`): at most MAX_ACTIONS_PER_QUERY. */
  readonly actions?: readonly string[];
  readonly userId?: string;
  readonly limit: number;
  /** The sort key of the last record of the previous page. */
  readonly after?: string;
  /** Oldest first (the export, shared/records/audit-export.ts); newest first by default (the list). */
  readonly oldestFirst?: boolean;
}

export interface StoredAudit extends AuditDetail {
  readonly eventId: string;
}

/** How many items one page request may examine for filters before it returns what it has. */
const MAX_EXAMINED_PER_PAGE = 2_000;

/**
 * The most actions one query filters on: "The IN operator accepts up to 100 values"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Comparators);
 * far fewer are ever asked for.
 */
export const MAX_ACTIONS_PER_QUERY = 20;

/** A count's answer: how many records it saw, and whether that is all of the range. */
export interface AuditCount {
  readonly records: number;
  readonly complete: boolean;
}

export const auditPartition = (tenantId: string | null) => `TENANT#${tenantId ?? 'platform'}`;

/**
 * Audit records in DynamoDB, keyed for "this tenant, this time range": the partition is the
 * tenant, the sort key the time and then the event id. The key is a function of the event alone,
 * so a replayed event hits the same key and the insert (only where no item has it) keeps exactly
 * one record.
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

  /**
   * The item an event's audit record is stored as, and its table: the records writer
   * (RecordBatchWriter) inserts it only where no item has its key, so a replay keeps one record.
   */
  insertOf(
    eventId: string,
    detail: AuditDetail,
  ): { readonly table: string; readonly item: Record<string, unknown> } {
    const expiresAt = Math.floor(Date.parse(detail.at) / 1000) + this.retentionDays * 86_400;
    return {
      table: this.tableName,
      item: {
        pk: auditPartition(detail.tenantId),
        sk: `${detail.at}#${eventId}`,
        eventId,
        ...detail,
        expiresAt,
      },
    };
  }

  /**
   * A tenant's records in a time range, newest first (or oldest first), optionally filtered by action and user.
   * Records past their retention are filtered here (the local DynamoDB API has no TTL, and AWS
   * deletes expired items only eventually). `nextSk` is the key to resume after, or null.
   */
  async query(
    tenantId: string | null,
    query: AuditQuery,
    now: Date = new Date(),
  ): Promise<{ items: StoredAudit[]; nextSk: string | null }> {
    const filters = ['expiresAt > :now'];
    const values: Record<string, unknown> = {
      ':pk': auditPartition(tenantId),
      ':from': query.from,
      // Every key of the range starts with the timestamp, then `#`: `~` sorts after all of them.
      ':to': `${query.to}#~`,
      ':now': Math.floor(now.getTime() / 1000),
    };
    if (query.action) {
      filters.push('#action = :action');
      values[':action'] = query.action;
    }
    const actions = query.actions ?? [];
    if (actions.length > MAX_ACTIONS_PER_QUERY) throw new Error('audit query: too many actions');
    if (actions.length > 0) {
      filters.push(`#action IN (${actions.map((_, i) => `:action${i}`).join(', ')})`);
      actions.forEach((action, i) => {
        values[`:action${i}`] = action;
      });
    }
    if (query.userId) {
      filters.push('userId = :userId');
      values[':userId'] = query.userId;
    }
    const items: StoredAudit[] = [];
    let start: Record<string, unknown> | undefined = query.after
      ? { pk: auditPartition(tenantId), sk: query.after }
      : undefined;
    let examined = 0;
    while (items.length < query.limit) {
      const page = await this.#documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          FilterExpression: filters.join(' AND '),
          ExpressionAttributeNames: query.action || actions.length > 0 ? { '#action': 'action' } : undefined,
          ExpressionAttributeValues: values,
          ScanIndexForward: query.oldestFirst === true,
          ExclusiveStartKey: start,
          Limit: Math.min(500, (query.limit - items.length) * 4 + 1),
        }),
      );
      examined += page.ScannedCount ?? 0;
      const found = page.Items ?? [];
      for (const [index, item] of found.entries()) {
        items.push(item as StoredAudit & Record<string, unknown>);
        if (items.length < query.limit) continue;
        // Full: more may follow, and the last returned record is where the next page resumes.
        const more = index < found.length - 1 || page.LastEvaluatedKey !== undefined;
        return { items, nextSk: more ? String(item.sk) : null };
      }
      start = page.LastEvaluatedKey;
      if (!start) return { items, nextSk: null };
      if (examined >= MAX_EXAMINED_PER_PAGE) return { items, nextSk: String(start.sk) };
    }
    return { items, nextSk: null };
  }

  /**
   * How many of a tenant's records (not past their retention) fall in a time range: Query with
   * `Select: COUNT`, which returns no items, page after page; each page reads at most 1 MB
   * ("Count and ScannedCount", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Other.html#Query.Count).
   * At most `maxPages` pages: a tenant with more answers `complete: false` with what was counted.
   */
  async count(
    tenantId: string | null,
    range: { readonly from: string; readonly to: string },
    maxPages: number,
    now: Date = new Date(),
  ): Promise<AuditCount> {
    let records = 0;
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < maxPages; page++) {
      const answer = await this.#documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          FilterExpression: 'expiresAt > :now',
          ExpressionAttributeValues: {
            ':pk': auditPartition(tenantId),
            ':from': range.from,
            ':to': `${range.to}#~`,
            ':now': Math.floor(now.getTime() / 1000),
          },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      records += answer.Count ?? 0;
      start = answer.LastEvaluatedKey;
      if (!start) return { records, complete: true };
    }
    return { records, complete: false };
  }
}
