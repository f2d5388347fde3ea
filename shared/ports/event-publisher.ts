import type * as z from 'zod';
import type { EventDefinition } from '#shared/events/catalog';

/** One event to publish: a catalog definition and a detail its schema accepts. */
export interface OutgoingEvent {
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  readonly time?: Date;
}

/** Builds an outgoing event, parsing the detail with the catalog's schema (typed, checked once). */
export function outgoing<S extends z.ZodType>(
  definition: EventDefinition<S>,
  detail: z.input<S>,
  time?: Date,
): OutgoingEvent {
  return {
    source: definition.source,
    detailType: definition.detailType,
    detail: definition.schema.parse(detail),
    ...(time ? { time } : {}),
  };
}

export interface FailedEvent {
  readonly event: OutgoingEvent;
  readonly code: string;
  readonly message: string;
}

export interface PublishResult {
  /** Events the bus did not take, after the publisher's own retry. */
  readonly failed: readonly FailedEvent[];
}

/** Puts events on the bus. Never throws for a rejected entry: rejected entries come back in `failed`. */
export interface EventPublisher {
  publish(events: readonly OutgoingEvent[]): Promise<PublishResult>;
}

/** Where records that could not be published go, so that none is lost silently. */
export interface DeadLetterSink {
  write(entry: { readonly reason: string; readonly failed: readonly FailedEvent[] }): Promise<void>;
}
