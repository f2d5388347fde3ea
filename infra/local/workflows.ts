import { type WorkflowExecution, WorkflowNameTaken, type WorkflowStarter } from '#shared/ports/workflows';
import {
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type LocalWorkflowRunner,
} from './engines/stepfunctions.ts';

/** The workflow port on the local Step Functions interpreter; same idempotency as the service. */
export class LocalWorkflowStarter implements WorkflowStarter {
  constructor(private readonly runner: LocalWorkflowRunner) {}

  async start(name: string, input: Record<string, unknown>): Promise<{ executionId: string }> {
    try {
      return { executionId: (await this.runner.start(name, input)).executionArn };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) throw new WorkflowNameTaken(name, { cause: error });
      throw error;
    }
  }

  async describe(name: string): Promise<WorkflowExecution | null> {
    try {
      const execution = this.runner.describe(name);
      return {
        executionId: execution.executionArn,
        name: execution.name,
        status: execution.status,
        startedAt: execution.startDate,
        stoppedAt: execution.stopDate ?? null,
        error: execution.error ?? null,
        steps: execution.history.map((step) => ({
          name: step.name,
          status: step.status,
          enteredAt: step.enteredAt,
          exitedAt: step.exitedAt ?? null,
          retries: step.retries,
          error: step.errors[step.errors.length - 1]?.error ?? null,
        })),
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return null;
      throw error;
    }
  }

  /** For tests and the benchmark: resolves when the execution has finished. */
  async waitFor(name: string): Promise<WorkflowExecution | null> {
    await this.runner.waitFor(name);
    return this.describe(name);
  }
}
