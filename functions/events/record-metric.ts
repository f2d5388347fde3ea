import { metricConsumer } from '#shared/composition/record-consumers';

/** Adds each Metric Sample to its tenant's hourly metrics once. */
export const handler = metricConsumer((services) => services.records.metrics);
