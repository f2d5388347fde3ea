import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { configFields, loadConfig } from '#shared/config';
import { usageConsumer } from '#shared/records/consumers';
import { UsageStore } from '#shared/records/usage-store';

const config = loadConfig(z.object({ USAGE_TABLE_NAME: configFields.name }));

export const handler = usageConsumer(new UsageStore(new DynamoDBClient({}), config.USAGE_TABLE_NAME));
