import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { configFields, loadConfig } from '#shared/config';
import { eventHandler } from '#shared/events/consumer';
import { AuditRecord } from '#shared/events/events';
import { logger } from '#shared/http/logger';
import { AuditStore } from '#shared/records/audit-store';

const config = loadConfig(
  z.object({
    AUDIT_TABLE_NAME: configFields.name,
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  }),
);
const store = new AuditStore(new DynamoDBClient({}), config.AUDIT_TABLE_NAME, config.AUDIT_RETENTION_DAYS);

export const handler = eventHandler(AuditRecord, async ({ id, detail }) => {
  const recorded = await store.record(id, detail);
  if (!recorded) logger.info('audit record already stored (replayed event)');
});
