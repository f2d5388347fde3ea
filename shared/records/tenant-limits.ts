import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { monthOf, nextMonthStart } from '#shared/records/utc-months';

/**
 * Each tenant's request rate and API calls of the month (issue 15), in the limits table: one item
 * a tenant and UTC month, and one conditional UpdateItem per request that both admits the request
 * against the rate and counts it against the month. docs/plans-and-quotas.md says why this shape.
 *
 * The rate is the generic cell rate algorithm (GCRA, the "virtual scheduling" form of a token
 * bucket): with an emission interval T = 1000 / requestsPerSecond ms and room for `burst`
 * requests at once, the item keeps the theoretical arrival time `tat` of the next request; a
 * request at `now` is admitted when max(tat, now) <= now + (burst − 1)·T, and moves `tat` to
 * max(tat, now) + T. DynamoDB's update expressions have no max(), so the two sides are two
 * conditional updates of which exactly one can hold: `tat` in the past (or none yet) sets it to
 * now + T; `tat` between now and the admission bound adds T. The limiter tries the side its last
 * answer for the tenant points to, then the other; when neither holds it reads the item once to
 * say why (rate or month) and for how long. In steady state a request is one UpdateItem.
 *
 * The item also keeps the interval its `tat` was counted in (`iv`): when the tenant's rate changes
 * (a plan change), the bucket starts again under the new rate rather than carry a debt counted in
 * the old one, so an upgrade takes effect at once (at the price of one fresh burst).
 */

export interface RateLimits {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly apiCallsPerMonth: number;
}

export interface AdmissionQuestion {
  readonly tenantId: string;
  readonly limits: RateLimits;
  /** Whether the month's limit applies (false for the calls an admin needs to see why it was reached). */
  readonly checkMonth: boolean;
  /** Epoch ms. @default Date.now() */
  readonly now?: number;
}

export type Admission =
  | {
      readonly admitted: true;
      /** Requests the tenant could still send at once. */
      readonly remaining: number;
      /** Seconds until the full burst is available again. */
      readonly resetSeconds: number;
      /** The tenant's API calls this month, this one included. */
      readonly monthUsed: number;
      /** `YYYY-MM` (UTC). */
      readonly month: string;
    }
  | { readonly admitted: false; readonly reason: 'rate'; readonly retryAfterSeconds: number }
  | {
      readonly admitted: false;
      readonly reason: 'month';
      readonly retryAfterSeconds: number;
      readonly monthUsed: number;
      readonly month: string;
    };

export interface TenantLimiter {
  admit(question: AdmissionQuestion): Promise<Admission>;
}

/** A month's item is kept this long after the month ended (then DynamoDB's TTL removes it). */
const KEEP_MONTH_DAYS = 93;
/** Conditional attempts before a request that races others is refused for rate. */
const MAX_ATTEMPTS = 4;

export { monthOf, nextMonthStart, secondsInMonth } from '#shared/records/utc-months';

export const limitsKey = (tenantId: string, month: string) => ({
  pk: `TENANT#${tenantId}`,
  sk: `MONTH#${month}`,
});

type Side = 'idle' | 'busy';

export class DynamoTenantLimiter implements TenantLimiter {
  readonly #documents: DynamoDBDocumentClient;
  /** Which side of the rate the tenant's last answer was on: the one to try first next time. */
  readonly #lastSide = new Map<string, Side>();

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.#documents = DynamoDBDocumentClient.from(client);
  }

  async admit(question: AdmissionQuestion): Promise<Admission> {
    const now = question.now ?? Date.now();
    const { requestsPerSecond, burst, apiCallsPerMonth } = question.limits;
    const month = monthOf(now);
    const untilMonthEnd = Math.max(1, Math.ceil((nextMonthStart(now) - now) / 1000));
    if (question.checkMonth && apiCallsPerMonth === 0) {
      return { admitted: false, reason: 'month', retryAfterSeconds: untilMonthEnd, monthUsed: 0, month };
    }
    // A plan without any rate admits nothing; waiting does not help within the plan.
    if (requestsPerSecond === 0 || burst === 0)
      return { admitted: false, reason: 'rate', retryAfterSeconds: 1 };
    const interval = 1000 / requestsPerSecond;
    const bound = now + (burst - 1) * interval;
    const key = limitsKey(question.tenantId, month);
    const expiresAt = Math.floor(nextMonthStart(now) / 1000) + KEEP_MONTH_DAYS * 86_400;
    const monthCondition = question.checkMonth
      ? ' AND (attribute_not_exists(calls) OR calls < :monthLimit)'
      : '';
    const common = {
      ':one': 1,
      ':expires': expiresAt,
      ...(question.checkMonth ? { ':monthLimit': apiCallsPerMonth } : {}),
    };
    const sides: Record<Side, UpdateCommand> = {
      idle: new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET tat = :next, iv = :interval, expiresAt = :expires ADD calls :one',
        // A bucket kept under another rate (the plan changed) starts again under the new one.
        ConditionExpression: `(attribute_not_exists(tat) OR tat < :now OR attribute_not_exists(iv) OR iv <> :interval)${monthCondition}`,
        ExpressionAttributeValues: { ...common, ':now': now, ':next': now + interval, ':interval': interval },
        ReturnValues: 'ALL_NEW',
      }),
      busy: new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET tat = tat + :interval, expiresAt = :expires ADD calls :one',
        ConditionExpression: `(tat BETWEEN :now AND :bound AND iv = :interval)${monthCondition}`,
        ExpressionAttributeValues: { ...common, ':now': now, ':bound': bound, ':interval': interval },
        ReturnValues: 'ALL_NEW',
      }),
    };
    const first = this.#lastSide.get(question.tenantId) ?? 'idle';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      for (const side of attempt % 2 === 0 ? [first, other(first)] : [other(first), first]) {
        try {
          const { Attributes } = await this.#documents.send(sides[side]);
          this.#lastSide.set(question.tenantId, side);
          const tat = Number(Attributes?.tat ?? now + interval);
          return {
            admitted: true,
            remaining: Math.max(0, Math.floor((now + burst * interval - tat) / interval)),
            resetSeconds: Math.max(0, Math.ceil((tat - now) / 1000)),
            monthUsed: Number(Attributes?.calls ?? 1),
            month,
          };
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
      // Neither side held: over the rate, past the month, or raced by another request. Say which.
      const { Item } = await this.#documents.send(
        new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      const calls = Number(Item?.calls ?? 0);
      if (question.checkMonth && calls >= apiCallsPerMonth) {
        return {
          admitted: false,
          reason: 'month',
          retryAfterSeconds: untilMonthEnd,
          monthUsed: calls,
          month,
        };
      }
      const tat = Number(Item?.tat ?? 0);
      if (tat > bound && Number(Item?.iv) === interval) {
        this.#lastSide.set(question.tenantId, 'busy');
        return {
          admitted: false,
          reason: 'rate',
          retryAfterSeconds: Math.max(1, Math.ceil((tat - bound) / 1000)),
        };
      }
    }
    return { admitted: false, reason: 'rate', retryAfterSeconds: 1 };
  }
}

const other = (side: Side): Side => (side === 'idle' ? 'busy' : 'idle');
