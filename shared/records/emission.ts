import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from '#shared/core/logger';
import type { OutgoingEvent } from '#shared/ports/event-publisher';
import type { TelemetryFailureMetric, TelemetrySink } from '#shared/ports/telemetry';

type FailureCounts = Partial<Record<TelemetryFailureMetric, number>>;

/** Counts go out once, after the records' fate is known, so a metrics fault never stops a record. */
function report(sink: TelemetrySink, counts: FailureCounts): void {
  const { metrics } = sink;
  const entries = Object.entries(counts) as [TelemetryFailureMetric, number][];
  if (!metrics || entries.length === 0) return;
  try {
    for (const [name, value] of entries) metrics.addMetric(name, MetricUnit.Count, value);
    // Flushed within the request: a Lambda function does no work after it returns.
    metrics.publishStoredMetrics();
  } catch (error) {
    logger.error('telemetry failure metrics not written', { error, counts });
  }
}

/**
 * Publishes the records of one request; never throws. Entries the bus refused after the
 * publisher's retry go to the dead-letter sink; if even that fails, the records are logged in
 * full (the last place they can be recovered from) and counted as lost.
 */
export async function emit(sink: TelemetrySink, records: readonly OutgoingEvent[]): Promise<void> {
  const counts: FailureCounts = {};
  try {
    const { failed } = await sink.publisher.publish(records).catch((error: unknown) => ({
      // A publisher that throws has published nothing: all of it goes the dead-letter way.
      failed: records.map((event) => ({
        event,
        code: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
      })),
    }));
    if (failed.length === 0) return;
    counts.TelemetryPublishFailures = failed.length;
    logger.warn('telemetry records not published', {
      failed: failed.map(({ event, code }) => ({ detailType: event.detailType, code })),
    });
    try {
      await sink.deadLetters.write({ reason: 'publish failed', failed });
    } catch (error) {
      counts.TelemetryDeadLetterFailures = failed.length;
      logger.error('telemetry dead letter failed; records follow', { error, records: failed });
    }
  } catch (error) {
    logger.error('telemetry emission failed', { error, records });
  } finally {
    report(sink, counts);
  }
}
