import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { EventBridgePublisher } from '#shared/adapters/eventbridge-publisher';
import { configFields, loadConfig } from '#shared/config';

/**
 * The publisher for `EVENT_BUS_NAME`, one SDK attempt per call (the publisher retries failed
 * entries itself). Locally the same code finds the bus through `AWS_ENDPOINT_URL_EVENTBRIDGE`.
 */
export function busPublisherFromEnv(
  env: Record<string, string | undefined> = process.env,
  aws: AwsClientConfig = {},
): EventBridgePublisher {
  const { EVENT_BUS_NAME } = loadConfig(z.object({ EVENT_BUS_NAME: configFields.name }), env);
  return new EventBridgePublisher({
    client: new EventBridgeClient({ ...aws, maxAttempts: 1 }),
    eventBusName: EVENT_BUS_NAME,
  });
}
