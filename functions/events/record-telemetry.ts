import { recordsConsumer } from '#shared/composition/record-consumers';

/**
 * Reads batches of the records queue (Request Recorded, Audit Record, Usage Recorded, Metric
 * Sample): each audit record stored once, usage and metrics added to their aggregates once per event.
 */
export const handler = recordsConsumer((services) => services.records.batches);
