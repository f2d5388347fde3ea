import type * as z from 'zod';

export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  /** EventBridge `source`, e.g. `tenantry.tenants`. */
  readonly source: string;
  /** EventBridge `detail-type`, e.g. `Tenant Provisioned`. Unique across the catalog. */
  readonly detailType: string;
  readonly description: string;
  readonly schema: S;
}

export class DuplicateEventType extends Error {
  constructor(detailType: string) {
    super(`Event detail-type "${detailType}" is already registered`);
    this.name = 'DuplicateEventType';
  }
}

export class UnknownEventType extends Error {
  constructor(detailType: string) {
    super(`Event detail-type "${detailType}" is not in the catalog`);
    this.name = 'UnknownEventType';
  }
}

/**
 * The event catalog: every event the platform publishes, registered once. EventBridge rules
 * (CDK), the local bus and the publishers' types are all generated from it.
 */
export class EventCatalog {
  readonly #byDetailType = new Map<string, EventDefinition>();

  register<S extends z.ZodType>(definition: EventDefinition<S>): EventDefinition<S> {
    if (this.#byDetailType.has(definition.detailType)) throw new DuplicateEventType(definition.detailType);
    this.#byDetailType.set(definition.detailType, definition);
    return definition;
  }

  get(detailType: string): EventDefinition {
    const definition = this.#byDetailType.get(detailType);
    if (!definition) throw new UnknownEventType(detailType);
    return definition;
  }

  list(): EventDefinition[] {
    return [...this.#byDetailType.values()];
  }
}
