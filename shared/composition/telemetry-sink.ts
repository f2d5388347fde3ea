import { Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { type AwsClients, clientOptions } from '#shared/composition/aws-clients';
import { lazyPort } from '#shared/composition/lazy';
import { configFields, loadConfig } from '#shared/config';
import { logger } from '#shared/core/logger';
import type { DeadLetterSink, EventPublisher } from '#shared/ports/event-publisher';
import { TELEMETRY_METRICS_NAMESPACE, type TelemetrySink } from '#shared/ports/telemetry';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The publisher for `EVENT_BUS_NAME`, one SDK attempt per call (the publisher retries failed
 * entries itself); its adapter and SDK client are imported on its first publish.
 */
export function busPublisherOf(env: Env, clients: AwsClients): EventPublisher {
  const { EVENT_BUS_NAME } = loadConfig(z.object({ EVENT_BUS_NAME: configFields.name }), env);
  return lazyPort(async () => {
    const [{ EventBridgeClient }, { EventBridgePublisher }] = await Promise.all([
      import('@aws-sdk/client-eventbridge'),
      import('#shared/adapters/eventbridge-publisher'),
    ]);
    return new EventBridgePublisher({
      client: new EventBridgeClient({ ...clientOptions(clients, 'eventBridge'), maxAttempts: 1 }),
      eventBusName: EVENT_BUS_NAME,
    });
  });
}

function deadLettersOf(env: Env, clients: AwsClients): DeadLetterSink {
  const queueUrl = env.TELEMETRY_DLQ_URL;
  const file = env.TELEMETRY_DEAD_LETTER_FILE;
  if (queueUrl) {
    return lazyPort(async () => {
      const [{ SQSClient }, { SqsDeadLetterSink }] = await Promise.all([
        import('@aws-sdk/client-sqs'),
        import('#shared/adapters/sqs-dead-letter'),
      ]);
      return new SqsDeadLetterSink(new SQSClient(clientOptions(clients, 'sqs')), queueUrl);
    });
  }
  if (file)
    return lazyPort(
      async () => new (await import('#shared/adapters/file-dead-letter')).FileDeadLetterSink(file),
    );
  return {
    write: async (entry) => {
      // No dead-letter path configured: the log is the last resort, said loudly.
      logger.error('telemetry dead letter (no TELEMETRY_DLQ_URL configured)', { entry });
    },
  };
}

/**
 * The telemetry sink of a function's configuration: the bus in `EVENT_BUS_NAME`, dead letters
 * to the SQS queue in `TELEMETRY_DLQ_URL` (AWS) or the JSON-lines file in
 * `TELEMETRY_DEAD_LETTER_FILE` (local platform). A function without a bus (the public routes)
 * emits nothing. Failures are counted as CloudWatch metrics only in Lambda, whose log pipeline
 * turns the metric lines into metrics; elsewhere they would only be noise on stdout.
 */
export function telemetrySinkOf(env: Env, clients: AwsClients = {}): TelemetrySink | null {
  if (!env.EVENT_BUS_NAME) return null;
  const metrics = env.AWS_LAMBDA_FUNCTION_NAME
    ? new Metrics({ namespace: TELEMETRY_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME })
    : undefined;
  return {
    publisher: busPublisherOf(env, clients),
    deadLetters: deadLettersOf(env, clients),
    ...(metrics ? { metrics } : {}),
  };
}
