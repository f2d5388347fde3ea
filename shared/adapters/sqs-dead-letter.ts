import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterSink, FailedEvent } from '#shared/ports/event-publisher';

/** Failed records as one JSON message per request on the telemetry dead-letter queue. */
export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async write(entry: { reason: string; failed: readonly FailedEvent[] }): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ ...entry, deadLetteredAt: new Date().toISOString() }),
      }),
    );
  }
}
