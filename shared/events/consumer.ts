import type { EventBridgeEvent } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from '#shared/core/logger';
import type { EventDefinition } from '#shared/events/catalog';

export interface ConsumedEvent<T> {
  readonly id: string;
  readonly time: string;
  readonly detail: T;
}

export class InvalidEventDetail extends Error {
  constructor(detailType: string, issues: string) {
    super(`Event "${detailType}" has an invalid detail: ${issues}`);
    this.name = 'InvalidEventDetail';
  }
}

/**
 * Builds an EventBridge target handler for one catalog event. The detail is parsed with the
 * catalog's schema; an invalid one throws, so the delivery is retried and then dead-lettered,
 * never silently dropped.
 */
export function eventHandler<S extends z.ZodType>(
  definition: EventDefinition<S>,
  impl: (event: ConsumedEvent<z.infer<S>>) => Promise<void>,
) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<void> => {
    if (event['detail-type'] !== definition.detailType) {
      throw new InvalidEventDetail(event['detail-type'], `expected ${definition.detailType}`);
    }
    const parsed = definition.schema.safeParse(event.detail);
    if (!parsed.success) {
      throw new InvalidEventDetail(
        definition.detailType,
        parsed.error.issues.map((i) => i.path.join('.')).join(', '),
      );
    }
    logger.appendKeys({ eventId: event.id, detailType: definition.detailType });
    try {
      await impl({ id: event.id, time: event.time, detail: parsed.data });
    } finally {
      logger.resetKeys();
    }
  };
}
