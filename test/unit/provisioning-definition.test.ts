import { describe, expect, it } from 'vitest';
import {
  AURORA_RESUME_SECONDS,
  DATABASE_RESUMING,
  provisioningDefinition,
  provisioningSteps,
} from '#shared/workflows/provisioning';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}
type State = { Type: string; Retry?: Retrier[]; ItemProcessor?: Machine } & Record<string, unknown>;
interface Machine {
  States: Record<string, State>;
}

const definition = provisioningDefinition((step) => `arn:aws:lambda:us-east-1:000000000000:function:${step}`);

/** Every Task state, including those inside Map item processors. */
function tasks(machine: Machine): [string, State][] {
  return Object.entries(machine.States).flatMap(([name, state]) => [
    ...(state.Type === 'Task' ? [[name, state] as [string, State]] : []),
    ...(state.ItemProcessor ? tasks(state.ItemProcessor) : []),
  ]);
}

/**
 * The retrier Step Functions uses for `error`: it "scans through the retriers" and applies the
 * first whose ErrorEquals names it (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
const retrierFor = (state: State, error: string) =>
  state.Retry?.find(
    (retrier) => retrier.ErrorEquals.includes(error) || retrier.ErrorEquals.includes('States.ALL'),
  );

/**
 * The pauses a retrier is sure to make before giving up: before retry n (0-based) it waits
 * IntervalSeconds × BackoffRate^n, capped at MaxDelaySeconds (defaults 1 s, ×2, 3 attempts). Full
 * jitter waits "a random number between 0 and the computed backoff"
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_stepfunctions.JitterType.html), so it
 * is sure of nothing.
 */
function guaranteedWaitSeconds(retrier: Retrier): number {
  if (retrier.JitterStrategy === 'FULL') return 0;
  const interval = retrier.IntervalSeconds ?? 1;
  const rate = retrier.BackoffRate ?? 2;
  let total = 0;
  for (let n = 0; n < (retrier.MaxAttempts ?? 3); n++) {
    total += Math.min(interval * rate ** n, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
  }
  return total;
}

describe('the saga definition’s retries', () => {
  const all = tasks(definition as unknown as Machine);

  it('has a Task state for every step, and every Task runs a step (the checks below cover them all)', () => {
    const resources = all.map(([, state]) =>
      String((state as { Resource?: unknown }).Resource)
        .split(':')
        .pop(),
    );
    expect(new Set(resources)).toEqual(new Set(Object.keys(provisioningSteps)));
    // A state named after a step runs that step; the clone's copies are named apart (unique names).
    for (const [name, state] of all) {
      if (name in provisioningSteps) expect((state as { Resource?: string }).Resource).toContain(`:${name}`);
    }
  });

  it.each(all)(
    '%s waits out a resuming Aurora database with margin: at least 4 × the documented resume time',
    (_, state) => {
      const retrier = retrierFor(state, DATABASE_RESUMING);

      expect(retrier?.ErrorEquals).toEqual([DATABASE_RESUMING]);
      expect(guaranteedWaitSeconds(retrier as Retrier)).toBeGreaterThanOrEqual(4 * AURORA_RESUME_SECONDS);
    },
  );

  it.each(all)('%s keeps short, jittered retries for the other transient errors', (_, state) => {
    for (const error of ['TransientError', 'Lambda.ServiceException', 'Lambda.TooManyRequestsException']) {
      const retrier = retrierFor(state, error);
      expect(retrier, error).toMatchObject({ JitterStrategy: 'FULL' });
      expect(retrier?.ErrorEquals).not.toContain(DATABASE_RESUMING);
      expect(retrier?.MaxAttempts).toBeLessThanOrEqual(4);
    }
  });

  it('uses the figure AWS documents for a resume from 0 ACUs', () => {
    // "It can take up to 15 seconds for the database to resume."
    // https://aws.amazon.com/blogs/database/introducing-scaling-to-0-capacity-with-amazon-aurora-serverless-v2/
    expect(AURORA_RESUME_SECONDS).toBeGreaterThanOrEqual(15);
  });
});
