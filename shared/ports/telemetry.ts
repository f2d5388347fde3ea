import type { DeadLetterSink, EventPublisher } from '#shared/ports/event-publisher';

/** The CloudWatch namespace of the telemetry failure metrics; the API stack's alarm watches it. */
export const TELEMETRY_METRICS_NAMESPACE = 'Tenantry';

/** The CloudWatch metrics telemetry counts its failures in. */
export type TelemetryFailureMetric = 'TelemetryPublishFailures' | 'TelemetryDeadLetterFailures';

/** The part of a Powertools `Metrics` that emission uses: buffer counts, flush them in the request. */
export interface TelemetryMetrics {
  addMetric(name: TelemetryFailureMetric, unit: 'Count', value: number): unknown;
  publishStoredMetrics(): unknown;
}

/** Where the records of requests go: the bus, else the dead-letter path. */
export interface TelemetrySink {
  readonly publisher: EventPublisher;
  readonly deadLetters: DeadLetterSink;
  /**
   * Where failures are counted. Only Lambda's log pipeline turns metric lines into metrics, so
   * elsewhere there is none and the warning and error logs say it.
   * @default - failures are logged, not counted
   */
  readonly metrics?: TelemetryMetrics;
}
