import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FileDeadLetterSink } from '#shared/adapters/file-dead-letter';
import { SqsDeadLetterSink } from '#shared/adapters/sqs-dead-letter';
import { adapterOf } from '#shared/composition/lazy';
import { telemetrySinkOf } from '#shared/composition/telemetry-sink';
import { logger } from '#shared/core/logger';
import { MetricSample } from '#shared/events/events';
import type { DeadLetterSink, FailedEvent, OutgoingEvent } from '#shared/ports/event-publisher';
import { outgoing } from '#shared/ports/event-publisher';
import {
  TELEMETRY_METRICS_NAMESPACE,
  type TelemetryMetrics,
  type TelemetrySink,
} from '#shared/ports/telemetry';
import { emit } from '#shared/records/emission';

const sample = (operationId: string): OutgoingEvent =>
  outgoing(MetricSample, {
    tenantId: null,
    operationId,
    statusCode: 200,
    latencyMs: 1,
    at: '2021-07-01T00:00:00.000Z',
  });

/** Metrics that keep what they are given, and how often they were flushed. */
function countingMetrics() {
  const counted: { name: string; unit: string; value: number }[] = [];
  let flushes = 0;
  const metrics: TelemetryMetrics = {
    addMetric: (name, unit, value) => counted.push({ name, unit, value }),
    publishStoredMetrics: () => {
      flushes += 1;
    },
  };
  return { metrics, counted, flushes: () => flushes };
}

const refusingPublisher: TelemetrySink['publisher'] = {
  publish: async (records) => ({
    failed: records.map((event) => ({ event, code: 'InternalFailure', message: 'no' })),
  }),
};

function keepingDeadLetters() {
  const written: { reason: string; failed: readonly FailedEvent[] }[] = [];
  const deadLetters: DeadLetterSink = {
    write: async (entry) => {
      written.push(entry);
    },
  };
  return { deadLetters, written };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('emit', () => {
  it('counts nothing and flushes nothing when the bus takes every record', async () => {
    const { metrics, counted, flushes } = countingMetrics();
    const { deadLetters, written } = keepingDeadLetters();

    await emit({ publisher: { publish: async () => ({ failed: [] }) }, deadLetters, metrics }, [sample('a')]);

    expect(written).toEqual([]);
    expect(counted).toEqual([]);
    expect(flushes()).toBe(0);
  });

  it('dead-letters what the bus refused and counts it as publish failures, flushed once', async () => {
    const { metrics, counted, flushes } = countingMetrics();
    const { deadLetters, written } = keepingDeadLetters();
    const records = [sample('a'), sample('b')];

    await emit({ publisher: refusingPublisher, deadLetters, metrics }, records);

    expect(written).toHaveLength(1);
    expect(written[0]?.reason).toBe('publish failed');
    expect(written[0]?.failed.map((failure) => failure.event)).toEqual(records);
    expect(counted).toEqual([{ name: 'TelemetryPublishFailures', unit: 'Count', value: 2 }]);
    expect(flushes()).toBe(1);
  });

  it('dead-letters every record of a publisher that throws, with the error as the code', async () => {
    const { deadLetters, written } = keepingDeadLetters();
    const records = [sample('a')];

    await emit(
      { publisher: { publish: async () => Promise.reject(new TypeError('down')) }, deadLetters },
      records,
    );

    expect(written[0]?.failed).toEqual([{ event: records[0], code: 'TypeError', message: 'down' }]);
  });

  it('logs the records in full and counts them lost when the dead-letter path fails too', async () => {
    const { metrics, counted, flushes } = countingMetrics();
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => {});
    const records = [sample('a'), sample('b'), sample('c')];

    await expect(
      emit(
        {
          publisher: refusingPublisher,
          deadLetters: { write: async () => Promise.reject(new Error('disk full')) },
          metrics,
        },
        records,
      ),
    ).resolves.toBeUndefined();

    expect(errors).toHaveBeenCalledWith(
      'telemetry dead letter failed; records follow',
      expect.objectContaining({
        records: records.map((event) => expect.objectContaining({ event })),
      }),
    );
    expect(counted).toEqual([
      { name: 'TelemetryPublishFailures', unit: 'Count', value: 3 },
      { name: 'TelemetryDeadLetterFailures', unit: 'Count', value: 3 },
    ]);
    expect(flushes()).toBe(1);
  });

  it('still dead-letters when the metrics fail, and never throws for them', async () => {
    const { deadLetters, written } = keepingDeadLetters();
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => {});
    const broken: TelemetryMetrics = {
      addMetric: () => {
        throw new RangeError('bad metric');
      },
      publishStoredMetrics: () => {},
    };

    await expect(
      emit({ publisher: refusingPublisher, deadLetters, metrics: broken }, [sample('a')]),
    ).resolves.toBeUndefined();

    expect(written).toHaveLength(1);
    expect(errors).toHaveBeenCalledWith('telemetry failure metrics not written', expect.anything());
  });

  it('writes the counts as one embedded-metric-format line through Powertools Metrics', async () => {
    const lines: string[] = [];
    const metrics = new Metrics({ namespace: TELEMETRY_METRICS_NAMESPACE, serviceName: 'tenantry-api' });
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });

    await emit(
      {
        publisher: refusingPublisher,
        deadLetters: { write: async () => Promise.reject(new Error('disk full')) },
        metrics,
      },
      [sample('a'), sample('b')],
    );
    vi.mocked(process.stdout.write).mockRestore();

    const emf = lines.map((line) => JSON.parse(line)).filter((entry) => entry._aws);
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Tenantry',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'TelemetryPublishFailures', Unit: 'Count' },
              { Name: 'TelemetryDeadLetterFailures', Unit: 'Count' },
            ],
          },
        ],
      },
      service: 'tenantry-api',
      TelemetryPublishFailures: 2,
      TelemetryDeadLetterFailures: 2,
    });
  });
});

describe('the telemetry sink of the environment', () => {
  it('is none for a function without a bus', () => {
    expect(telemetrySinkOf({ TELEMETRY_DLQ_URL: 'https://sqs.example/q' })).toBeNull();
  });

  it('dead-letters to the queue in Lambda and counts failures as metrics there only', async () => {
    const lambda = telemetrySinkOf({
      EVENT_BUS_NAME: 'bus',
      TELEMETRY_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      AWS_LAMBDA_FUNCTION_NAME: 'fn',
    });
    expect(lambda && (await adapterOf(lambda.deadLetters))).toBeInstanceOf(SqsDeadLetterSink);
    expect(lambda?.metrics).toBeInstanceOf(Metrics);

    const local = telemetrySinkOf({
      EVENT_BUS_NAME: 'bus',
      TELEMETRY_DEAD_LETTER_FILE: '/tmp/dead.jsonl',
    });
    expect(local && (await adapterOf(local.deadLetters))).toBeInstanceOf(FileDeadLetterSink);
    expect(local?.metrics).toBeUndefined();
  });

  it('logs a dead letter loudly when no dead-letter path is configured', async () => {
    const errors = vi.spyOn(logger, 'error').mockImplementation(() => {});
    const sink = telemetrySinkOf({ EVENT_BUS_NAME: 'bus' });

    await sink?.deadLetters.write({ reason: 'publish failed', failed: [] });

    expect(errors).toHaveBeenCalledWith('telemetry dead letter (no TELEMETRY_DLQ_URL configured)', {
      entry: { reason: 'publish failed', failed: [] },
    });
  });
});
