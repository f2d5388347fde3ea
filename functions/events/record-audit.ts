import { auditConsumer } from '#shared/composition/record-consumers';

/** Stores each Audit Record once; the table and retention come from the function's configuration. */
export const handler = auditConsumer((services) => services.records.audit);
