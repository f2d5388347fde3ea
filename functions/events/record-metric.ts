import { metricConsumer } from '#shared/records/consumers';

/** Adds each Metric Sample to its tenant's hourly metrics once. */
export const handler = metricConsumer((services) => services.records.metrics);
