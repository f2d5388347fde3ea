import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export interface LedgerKey {
  readonly pk: string;
  readonly sk: string;
}

/** A delivery of the same event is still being applied elsewhere; the bus retries it later. */
export class EventInFlight extends Error {
  constructor(key: LedgerKey) {
    super(`Event ${key.pk}/${key.sk} is being applied by another delivery`);
    this.name = 'EventInFlight';
  }
}

export interface EventLedgerOptions {
  /**
   * How long an unfinished application is trusted to be alive. Longer than a consumer's
   * timeout (29 s), so only a dead delivery's claim is taken over.
   * @default 120 s
   */
  readonly leaseMs?: number;
  /**
   * How long a concurrent duplicate waits for the first delivery to finish before it gives up
   * and lets the bus retry it.
   * @default 3 s
   */
  readonly waitMs?: number;
  readonly now?: () => number;
}

export type LedgerOutcome = 'applied' | 'replayed';

/**
 * Applies an event's side effects (rollup increments) at most once per event id, without
 * transactions (the local DynamoDB API has none):
 *
 * 1. a conditional put of the event's own item (`state = pending`, a lease) — only one delivery
 *    of an event can create it;
 * 2. the creator applies the increments, then marks the item `applied`;
 * 3. a duplicate that finds the item `applied` does nothing; one that finds it `pending` waits
 *    for it, and takes over a claim whose lease ran out (its delivery died between 1 and 3).
 *
 * Increments are atomic `ADD`s, so concurrent events never lose one another's counts. The one
 * window left is a delivery dying after its increments and before its mark, whose lease then
 * expires: the takeover would count it twice. `UsageStore.reconcileDay` recomputes a day from
 * raw records, and the month close runs it, so an export is exact even then.
 */
export class EventLedger {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #leaseMs: number;
  readonly #waitMs: number;
  readonly #now: () => number;

  constructor(documents: DynamoDBDocumentClient, tableName: string, options: EventLedgerOptions = {}) {
    this.#documents = documents;
    this.#tableName = tableName;
    this.#leaseMs = options.leaseMs ?? 120_000;
    this.#waitMs = options.waitMs ?? 3_000;
    this.#now = options.now ?? Date.now;
  }

  async once(
    key: LedgerKey,
    item: Record<string, unknown>,
    apply: () => Promise<void>,
  ): Promise<LedgerOutcome> {
    const leaseUntil = this.#now() + this.#leaseMs;
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...item, ...key, state: 'pending', leaseUntil },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return this.#duplicate(key, apply);
    }
    await this.#finish(key, leaseUntil, apply);
    return 'applied';
  }

  async #duplicate(key: LedgerKey, apply: () => Promise<void>): Promise<LedgerOutcome> {
    const deadline = this.#now() + this.#waitMs;
    for (;;) {
      const { Item } = await this.#documents.send(
        new GetCommand({ TableName: this.#tableName, Key: key, ConsistentRead: true }),
      );
      if (!Item || Item.state === 'applied') return 'replayed';
      const lease = Number(Item.leaseUntil ?? 0);
      if (lease <= this.#now()) {
        const leaseUntil = this.#now() + this.#leaseMs;
        try {
          await this.#documents.send(
            new UpdateCommand({
              TableName: this.#tableName,
              Key: key,
              UpdateExpression: 'SET leaseUntil = :new',
              ConditionExpression: '#state = :pending AND leaseUntil = :old',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':new': leaseUntil, ':old': lease, ':pending': 'pending' },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          continue; // Someone else took it over, or finished: look again.
        }
        await this.#finish(key, leaseUntil, apply);
        return 'applied';
      }
      if (this.#now() >= deadline) throw new EventInFlight(key);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async #finish(key: LedgerKey, leaseUntil: number, apply: () => Promise<void>): Promise<void> {
    await apply();
    await this.#documents.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: key,
        UpdateExpression: 'SET #state = :applied REMOVE leaseUntil',
        ConditionExpression: 'leaseUntil = :mine',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':applied': 'applied', ':mine': leaseUntil },
      }),
    );
  }
}
