import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { configFields, loadConfig } from '#shared/config';
import { metricConsumer } from '#shared/records/consumers';
import { MetricsStore } from '#shared/records/metrics-store';

const config = loadConfig(z.object({ USAGE_TABLE_NAME: configFields.name }));

export const handler = metricConsumer(new MetricsStore(new DynamoDBClient({}), config.USAGE_TABLE_NAME));
