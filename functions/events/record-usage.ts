import { usageConsumer } from '#shared/composition/record-consumers';

/** Adds each Usage Recorded to its tenant's rollups once. */
export const handler = usageConsumer((services) => services.records.usage);
