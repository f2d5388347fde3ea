import { canonicalJson } from '#shared/core/canonical-json';
import { type WorkflowExecution, WorkflowNameTaken, type WorkflowStarter } from '#shared/ports/workflows';

/**
 * Attempts of one piece of work (provision a database, drop one, offboard a tenant, upgrade a
 * module). Step Functions keeps an execution name for 90 days after the execution closes: starting
 * it again is refused, even with the same input
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html). So the
 * first attempt is named `<base>`, and a re-run after it closed is `<base>-a2`, `<base>-a3`, …; while
 * an attempt runs, starting the work again returns that attempt (the service's idempotency).
 */

/** More re-runs than anyone retries by hand; the names stay far below the 80-character limit. */
export const MAX_WORKFLOW_ATTEMPTS = 99;

export const attemptName = (base: string, attempt: number): string =>
  attempt === 1 ? base : `${base}-a${attempt}`;

export class TooManyWorkflowAttempts extends Error {
  constructor(readonly base: string) {
    super(`Every attempt name of ${base} (up to ${MAX_WORKFLOW_ATTEMPTS}) is taken`);
    this.name = 'TooManyWorkflowAttempts';
  }
}

export interface StartedAttempt {
  readonly executionId: string;
  /** The execution name of this attempt: `<base>` or `<base>-a<attempt>`. */
  readonly name: string;
  readonly attempt: number;
}

/**
 * Starts the work named `base`: the first attempt whose name is free, or the one still running
 * with this input. Attempts are tried in order, so two callers at once end on the same attempt
 * (the second start of a running name with the same input returns it).
 */
export async function startWorkflow(
  workflows: WorkflowStarter,
  base: string,
  input: Record<string, unknown>,
): Promise<StartedAttempt> {
  // Keys in one order at every depth: the same input is the same JSON text, as the service compares it.
  const same = canonicalJson(input) as Record<string, unknown>;
  for (let attempt = 1; attempt <= MAX_WORKFLOW_ATTEMPTS; attempt++) {
    const name = attemptName(base, attempt);
    try {
      const { executionId } = await workflows.start(name, same);
      return { executionId, name, attempt };
    } catch (error) {
      // Taken: this attempt has closed (one still running with this input would have been returned).
      if (!(error instanceof WorkflowNameTaken)) throw error;
    }
  }
  throw new TooManyWorkflowAttempts(base);
}

/**
 * The current attempt of the work named `base`: the latest started of `<base>`, `<base>-a2`, … up
 * to the first name that has no execution. Null when `<base>` has none (never started, or closed
 * more than 90 days ago: the service no longer describes it).
 */
export async function currentWorkflow(
  workflows: WorkflowStarter,
  base: string,
): Promise<(WorkflowExecution & { readonly attempt: number }) | null> {
  let current: (WorkflowExecution & { attempt: number }) | null = null;
  for (let attempt = 1; attempt <= MAX_WORKFLOW_ATTEMPTS; attempt++) {
    const execution = await workflows.describe(attemptName(base, attempt));
    if (!execution) break;
    // A name freed after 90 days can run again and be newer than a later attempt.
    if (!current || Date.parse(execution.startedAt) >= Date.parse(current.startedAt)) {
      current = { ...execution, attempt };
    }
  }
  return current;
}

/** The current attempt of a piece of work, as the status route shows it. */
export const workflowView = (execution: Awaited<ReturnType<typeof currentWorkflow>>) =>
  execution
    ? {
        attempt: execution.attempt,
        status: execution.status,
        startedAt: execution.startedAt,
        stoppedAt: execution.stoppedAt,
        error: execution.error,
        steps: execution.steps,
      }
    : null;
