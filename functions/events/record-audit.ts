import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { configFields, loadConfig } from '#shared/config';
import { AuditStore } from '#shared/records/audit-store';
import { auditConsumer } from '#shared/records/consumers';

const config = loadConfig(
  z.object({
    AUDIT_TABLE_NAME: configFields.name,
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  }),
);

export const handler = auditConsumer(
  new AuditStore(new DynamoDBClient({}), config.AUDIT_TABLE_NAME, config.AUDIT_RETENTION_DAYS),
);
