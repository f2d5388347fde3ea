import { createHash, randomUUID } from 'node:crypto';
import { appendFile, chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { ScaledClock } from './async-invoke.ts';
import { LOCAL_ACCOUNT, REGION } from './local-functions.ts';

/**
 * A consumer queue and its event source mapping, as the templates (or the subscription) set them:
 * the queue's visibility timeout and redrive policy, the mapping's batch size, batching window and
 * partial batch responses.
 */
export interface QueueSettings {
  readonly queueName: string;
  readonly queueArn: string;
  readonly visibilityTimeoutSeconds: number;
  /** Receives before SQS moves a message to the dead-letter queue; undefined: no redrive policy. */
  readonly maxReceiveCount?: number;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  /** `FunctionResponseTypes: [ReportBatchItemFailures]`: the handler may name the failed messages. */
  readonly reportBatchItemFailures: boolean;
}

interface StoredMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** Local ms (performance.now) until which the message is invisible. */
  invisibleUntil: number;
  receiptHandle?: string;
}

/** A message SQS moved to the dead-letter queue, as `aws sqs receive-message` shows it there. */
export interface FailedMessage {
  readonly MessageId: string;
  readonly Body: string;
  readonly Attributes: {
    readonly SentTimestamp: string;
    readonly ApproximateReceiveCount: string;
    /** The source queue, as SQS records it on a dead-lettered message. */
    readonly DeadLetterQueueSourceArn: string;
  };
}

export interface LocalQueueOptions {
  readonly settings: QueueSettings;
  readonly clock: ScaledClock;
  /** Where the dead-letter queue's messages go: `<dir>/<queue name>.jsonl`. */
  readonly failedMessagesDir: string;
  /** One synchronous invocation of the consumer with a batch; resolves with its answer. */
  readonly invoke: (event: SQSEvent) => Promise<unknown>;
  readonly onFailedMessage?: (message: FailedMessage) => void;
  readonly onInvocationError?: (error: unknown) => void;
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * A standard SQS queue and the Lambda event source mapping that reads it, on the local platform:
 *
 * - a received message is invisible for the visibility timeout; a message the consumer did not
 *   finish (the invocation failed, or the partial batch response names it) becomes visible again
 *   when that timeout ends, with its `ApproximateReceiveCount` one higher
 *   (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html);
 * - a message received `maxReceiveCount` times and still not deleted is moved to the dead-letter
 *   queue instead of being delivered again (the redrive policy);
 * - the mapping invokes with up to `batchSize` messages, as soon as that many are visible or
 *   when the batching window that began with the first visible message ends, whichever is first
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-parameters.html); a message sent
 *   while the others are in flight is polled at once, not after their visibility timeout;
 * - a successful invocation deletes its messages but those the answer's `batchItemFailures` names.
 *   An empty or null `batchItemFailures`, or an empty or null answer, is a complete success; an
 *   item whose `itemIdentifier` is empty, null, under another key name, or not a message of the
 *   batch, or a `batchItemFailures` that is no list, fails the whole batch, as Lambda treats it
 *   (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html, "Success and
 *   failure conditions").
 *
 * One invocation runs at a time per queue; every wait is the clock's (scaled from AWS's), and
 * `hurry()` (a stopping platform) ends the batching windows and visibility timeouts at once.
 */
export class LocalQueue {
  readonly settings: QueueSettings;
  readonly #options: LocalQueueOptions;
  readonly #messages = new Map<string, StoredMessage>();
  #running: Promise<void> | undefined;
  #idle: (() => void)[] = [];
  /** Ends the poller's current wait (a message it waits for was sent, or the queue is hurried). */
  #nudge: (() => void) | undefined;
  /** What the poller waits for: any visible message, or a full batch (its batching window). */
  #waitingFor: 'message' | 'batch' | undefined;
  #hurried = false;

  constructor(options: LocalQueueOptions) {
    this.settings = options.settings;
    this.#options = options;
  }

  /** SendMessage: the message id. */
  send(body: string): string {
    const messageId = randomUUID();
    this.#messages.set(messageId, {
      messageId,
      body,
      sentAt: Date.now(),
      receiveCount: 0,
      invisibleUntil: 0,
    });
    this.#wake();
    if (
      this.#waitingFor === 'message' ||
      (this.#waitingFor === 'batch' && this.size >= this.settings.batchSize)
    ) {
      this.#nudge?.();
    }
    return messageId;
  }

  /**
   * Ends every wait now, and every later one at once (a stopping platform): the batching window
   * closes, and the messages in flight or failed are visible again without their visibility
   * timeout, so that the rest of their receives (and their dead-lettering) happen now.
   */
  hurry(): void {
    this.#hurried = true;
    for (const message of this.#messages.values()) message.invisibleUntil = 0;
    this.#nudge?.();
  }

  /** Messages the queue holds, visible or not (ApproximateNumberOfMessages + NotVisible). */
  get size(): number {
    return this.#messages.size;
  }

  /** Resolves when the queue holds no message and no invocation runs. */
  drained(): Promise<void> {
    if (this.#messages.size === 0 && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #wake(): void {
    this.#running ??= this.#poll().finally(() => {
      this.#running = undefined;
      if (this.#messages.size > 0) this.#wake();
      else for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  async #poll(): Promise<void> {
    const { clock } = this.#options;
    while (this.#messages.size > 0) {
      if (this.#visible().length === 0) {
        // Until the first message is visible again, or a new one is sent.
        const next = Math.min(...[...this.#messages.values()].map((message) => message.invisibleUntil));
        await this.#wait('message', Math.max(1, (next - performance.now()) / clock.scale));
        continue;
      }
      // Even without a window the poller receives after the sender's turn: the entries of one
      // PutEvents call are sent together, and so are in one batch (up to its size).
      await this.#gather();
      const { batch, dead } = this.#receive();
      await Promise.all(dead.map((message) => this.#deadLetter(message)));
      if (batch.length > 0) await this.#invoke(batch);
    }
  }

  /** The batching window: until `batchSize` messages are visible, or the window ends. */
  async #gather(): Promise<void> {
    const { clock } = this.#options;
    const { batchSize, batchingWindowSeconds } = this.settings;
    const ends = performance.now() + clock.ms(batchingWindowSeconds * 1000);
    while (!this.#hurried && this.#visible().length < batchSize) {
      const left = ends - performance.now();
      if (left <= 0) return;
      await this.#wait('batch', left / clock.scale);
    }
  }

  /** Waits `awsMs` of AWS time (scaled), or less when what it `awaited` is sent, or on hurry(). */
  #wait(awaited: 'message' | 'batch', awsMs: number): Promise<void> {
    if (this.#hurried) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#nudge = resolve;
      this.#waitingFor = awaited;
      void this.#options.clock.sleep(awsMs).then(resolve);
    }).finally(() => {
      this.#nudge = undefined;
      this.#waitingFor = undefined;
    });
  }

  #visible(): StoredMessage[] {
    const now = performance.now();
    return [...this.#messages.values()].filter((message) => message.invisibleUntil <= now);
  }

  /** ReceiveMessage as the mapping's pollers call it; moves what exceeded maxReceiveCount first. */
  #receive(): { batch: StoredMessage[]; dead: StoredMessage[] } {
    const { clock } = this.#options;
    const batch: StoredMessage[] = [];
    const dead: StoredMessage[] = [];
    for (const message of this.#visible()) {
      if (batch.length >= this.settings.batchSize) break;
      const limit = this.settings.maxReceiveCount;
      if (limit !== undefined && message.receiveCount >= limit) {
        this.#messages.delete(message.messageId);
        dead.push(message);
        continue;
      }
      message.receiveCount++;
      message.firstReceivedAt ??= Date.now();
      message.receiptHandle = randomUUID();
      message.invisibleUntil = this.#hurried
        ? 0
        : performance.now() + clock.ms(this.settings.visibilityTimeoutSeconds * 1000);
      batch.push(message);
    }
    return { batch, dead };
  }

  async #deadLetter(message: StoredMessage): Promise<void> {
    const failed: FailedMessage = {
      MessageId: message.messageId,
      Body: message.body,
      Attributes: {
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        DeadLetterQueueSourceArn: this.settings.queueArn,
      },
    };
    const file = path.join(this.#options.failedMessagesDir, `${this.settings.queueName}.jsonl`);
    await mkdir(this.#options.failedMessagesDir, { recursive: true, mode: 0o700 });
    await appendFile(file, `${JSON.stringify(failed)}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    this.#options.onFailedMessage?.(failed);
  }

  async #invoke(batch: readonly StoredMessage[]): Promise<void> {
    const event: SQSEvent = { Records: batch.map((message) => this.#recordOf(message)) };
    let answer: unknown;
    try {
      answer = await this.#options.invoke(event);
    } catch (error) {
      // The whole batch comes back when its visibility timeout ends.
      this.#options.onInvocationError?.(error);
      return;
    }
    const failed = this.#failuresIn(answer, batch);
    if (failed === 'all') return;
    for (const message of batch) if (!failed.has(message.messageId)) this.#messages.delete(message.messageId);
  }

  /** The message ids a batch answer names as failed, or 'all' when Lambda would fail the batch. */
  #failuresIn(answer: unknown, batch: readonly StoredMessage[]): Set<string> | 'all' {
    // Without ReportBatchItemFailures Lambda does not read the answer: a success deletes the batch.
    if (!this.settings.reportBatchItemFailures) return new Set();
    // A null or empty answer, or a null or empty batchItemFailures, is a complete success.
    const failures = (answer as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) return 'all';
    const ids = new Set(batch.map((message) => message.messageId));
    const failed = new Set<string>();
    for (const failure of failures) {
      const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
      if (typeof id !== 'string' || id.length === 0 || !ids.has(id)) return 'all';
      failed.add(id);
    }
    return failed;
  }

  #recordOf(message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: LOCAL_ACCOUNT,
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt ?? Date.now()),
      },
      messageAttributes: {},
      md5OfBody: md5(message.body),
      eventSource: 'aws:sqs',
      eventSourceARN: this.settings.queueArn,
      awsRegion: REGION,
    };
  }
}

/** The local queue of a subscription without templates: its name, and the subscription's delivery. */
export function queueArnOf(queueName: string): string {
  return `arn:aws:sqs:${REGION}:${LOCAL_ACCOUNT}:${queueName}`;
}
