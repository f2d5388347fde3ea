import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  type WorkflowExecution,
  WorkflowNameTaken,
  type WorkflowStarter,
  type WorkflowStep,
} from '#shared/ports/workflows';

/** Steps from the execution history: one per state entered, with its outcome and retries. */
export function stepsFromHistory(events: readonly HistoryEvent[]): WorkflowStep[] {
  const steps: Array<{ -readonly [K in keyof WorkflowStep]: WorkflowStep[K] }> = [];
  for (const event of events) {
    const at = event.timestamp?.toISOString() ?? new Date(0).toISOString();
    const current = steps[steps.length - 1];
    if (event.stateEnteredEventDetails?.name) {
      steps.push({
        name: event.stateEnteredEventDetails.name,
        status: 'RUNNING',
        enteredAt: at,
        exitedAt: null,
        retries: 0,
        error: null,
      });
    } else if (event.stateExitedEventDetails && current) {
      current.exitedAt = at;
      if (current.status === 'RUNNING') current.status = 'SUCCEEDED';
    } else if (event.type === 'TaskFailed' || event.type === 'LambdaFunctionFailed') {
      if (current) {
        current.retries += current.error ? 1 : 0;
        current.error =
          event.taskFailedEventDetails?.error ?? event.lambdaFunctionFailedEventDetails?.error ?? 'Error';
        current.status = 'FAILED';
      }
    } else if (
      (event.type === 'TaskScheduled' || event.type === 'LambdaFunctionScheduled') &&
      current?.status === 'FAILED'
    ) {
      current.status = 'RUNNING';
    }
  }
  return steps;
}

/**
 * The workflow port on Step Functions. The execution name is the idempotency key: StartExecution
 * returns a running execution of the same name and input, and refuses any other reuse of a name
 * for 90 days with ExecutionAlreadyExists
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  #executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  async start(name: string, input: Record<string, unknown>): Promise<{ executionId: string }> {
    try {
      const result = await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      return { executionId: result.executionArn ?? this.#executionArn(name) };
    } catch (error) {
      // A closed execution, or a running one with another input: nothing was started.
      if (error instanceof ExecutionAlreadyExists) throw new WorkflowNameTaken(name, { cause: error });
      throw error;
    }
  }

  async describe(name: string): Promise<WorkflowExecution | null> {
    const executionArn = this.#executionArn(name);
    try {
      const execution = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      const history = await this.client.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }),
      );
      return {
        executionId: executionArn,
        name,
        status: (execution.status ?? 'RUNNING') as WorkflowExecution['status'],
        startedAt: execution.startDate?.toISOString() ?? new Date(0).toISOString(),
        stoppedAt: execution.stopDate?.toISOString() ?? null,
        error: execution.error ?? null,
        steps: stepsFromHistory(history.events ?? []),
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist) return null;
      throw error;
    }
  }
}
