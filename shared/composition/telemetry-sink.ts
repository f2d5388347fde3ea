import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { busPublisherFromEnv } from '#shared/adapters/bus-publisher';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { SqsDeadLetterSink } from '#shared/adapters/sqs-dead-letter';
import { logger } from '#shared/core/logger';
import type { DeadLetterSink } from '#shared/ports/event-publisher';
import { TELEMETRY_METRICS_NAMESPACE, type TelemetrySink } from '#shared/ports/telemetry';

function deadLettersFromEnv(env: Record<string, string | undefined>, aws: AwsClientConfig): DeadLetterSink {
  if (env.TELEMETRY_DLQ_URL) return new SqsDeadLetterSink(new SQSClient({ ...aws }), env.TELEMETRY_DLQ_URL);
  if (env.TELEMETRY_DEAD_LETTER_FILE) return new FileDeadLetterSink(env.TELEMETRY_DEAD_LETTER_FILE);
  return {
    write: async (entry) => {
      // No dead-letter path configured: the log is the last resort, said loudly.
      logger.error('telemetry dead letter (no TELEMETRY_DLQ_URL configured)', { entry });
    },
  };
}

/**
 * The telemetry sink of the function's configuration: the bus in `EVENT_BUS_NAME`, dead letters
 * to the SQS queue in `TELEMETRY_DLQ_URL` (AWS) or the JSON-lines file in
 * `TELEMETRY_DEAD_LETTER_FILE` (local platform). A function without a bus (the public routes)
 * emits nothing. Failures are counted as CloudWatch metrics only in Lambda, whose log pipeline
 * turns the metric lines into metrics; elsewhere they would only be noise on stdout.
 */
export function telemetrySinkFromEnv(
  env: Record<string, string | undefined> = process.env,
  aws: AwsClientConfig = {},
): TelemetrySink | null {
  if (!env.EVENT_BUS_NAME) return null;
  const metrics = env.AWS_LAMBDA_FUNCTION_NAME
    ? new Metrics({ namespace: TELEMETRY_METRICS_NAMESPACE, serviceName: env.POWERTOOLS_SERVICE_NAME })
    : undefined;
  return {
    publisher: busPublisherFromEnv(env, aws),
    deadLetters: deadLettersFromEnv(env, aws),
    ...(metrics ? { metrics } : {}),
  };
}
