import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import type {
  EventPublisher,
  FailedEvent,
  OutgoingEvent,
  PublishResult,
} from '#shared/ports/event-publisher';

/** PutEvents takes at most 10 entries per call. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  readonly eventBusName: string;
  /**
   * Delay before the one retry of the entries that failed.
   * @default 50 ms
   */
  readonly retryDelayMs?: number;
}

const toEntry = (eventBusName: string, event: OutgoingEvent): PutEventsRequestEntry => ({
  EventBusName: eventBusName,
  Source: event.source,
  DetailType: event.detailType,
  Detail: JSON.stringify(event.detail),
  ...(event.time ? { Time: event.time } : {}),
});

/**
 * EventBridge publisher: one PutEvents call per 10 events; entries the bus rejected (or a call
 * that failed as a whole) are retried once, only those, after a short delay; what still fails is
 * returned, never thrown, so the caller decides where it goes.
 */
export class EventBridgePublisher implements EventPublisher {
  readonly #options: EventBridgePublisherOptions;

  constructor(options: EventBridgePublisherOptions) {
    this.#options = options;
  }

  async publish(events: readonly OutgoingEvent[]): Promise<PublishResult> {
    const failed: FailedEvent[] = [];
    for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) {
      const chunk = events.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
      const first = await this.#put(chunk);
      if (first.length === 0) continue;
      await new Promise((resolve) => setTimeout(resolve, this.#options.retryDelayMs ?? 50));
      failed.push(...(await this.#put(first.map((failure) => failure.event))));
    }
    return { failed };
  }

  async #put(events: readonly OutgoingEvent[]): Promise<FailedEvent[]> {
    try {
      const result = await this.#options.client.send(
        new PutEventsCommand({ Entries: events.map((event) => toEntry(this.#options.eventBusName, event)) }),
      );
      if (!result.FailedEntryCount) return [];
      // Result entries are in request order; a failed one carries an ErrorCode instead of an EventId.
      return events.flatMap((event, index) => {
        const entry = result.Entries?.[index];
        if (entry?.EventId && !entry.ErrorCode) return [];
        return [
          { event, code: entry?.ErrorCode ?? 'Unknown', message: entry?.ErrorMessage ?? 'not accepted' },
        ];
      });
    } catch (error) {
      const code = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return events.map((event) => ({ event, code, message }));
    }
  }
}
