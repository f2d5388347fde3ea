/** Starts provisioning workflows. The execution name makes a start idempotent. */
export interface WorkflowStarter {
  /**
   * Starts `name` with `input`. Starting a name that already runs with the same input is a no-op,
   * so a retried request never starts a second workflow.
   */
  start(name: string, input: Record<string, unknown>): Promise<{ executionId: string }>;
  describe(name: string): Promise<WorkflowExecution | null>;
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
