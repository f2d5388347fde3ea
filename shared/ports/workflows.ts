/**
 * Starts and describes executions of the provisioning workflow, with Step Functions' rules for
 * execution names (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html):
 * a name is unique per state machine for 90 days. Re-running a piece of work under a fresh name
 * (an attempt suffix) is `startWorkflow` in shared/workflows/attempts.ts, built on this port.
 */
export interface WorkflowStarter {
  /**
   * Starts `name` with `input`. Starting a name that still runs with the same input returns that
   * execution, so a retried request never starts a second workflow. Any other use of a name taken
   * in the last 90 days (the execution has closed, or its input differs) throws WorkflowNameTaken:
   * nothing is started.
   */
  start(name: string, input: Record<string, unknown>): Promise<{ executionId: string }>;
  /** The execution of that name, or null when there is none (never started, or closed 90+ days ago). */
  describe(name: string): Promise<WorkflowExecution | null>;
}

/** The name is taken by a closed execution, or by a running one with another input (Step Functions' ExecutionAlreadyExists). */
export class WorkflowNameTaken extends Error {
  constructor(
    readonly executionName: string,
    options?: ErrorOptions,
  ) {
    super(`An execution named ${executionName} exists already; nothing was started`, options);
    this.name = 'WorkflowNameTaken';
  }
}

export interface WorkflowStep {
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CAUGHT';
  readonly enteredAt: string;
  readonly exitedAt: string | null;
  readonly retries: number;
  readonly error: string | null;
}

export interface WorkflowExecution {
  readonly executionId: string;
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  readonly startedAt: string;
  readonly stoppedAt: string | null;
  readonly error: string | null;
  readonly steps: readonly WorkflowStep[];
}
