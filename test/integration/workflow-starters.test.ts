import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  ExecutionAlreadyExists as SfnExecutionAlreadyExists,
  ExecutionDoesNotExist as SfnExecutionDoesNotExist,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalWorkflowRunner,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type LocalWorkflowRunner,
} from '#infra/local/engines/stepfunctions';
import { LocalWorkflowStarter } from '#infra/local/workflows';
import { SfnWorkflowStarter } from '#shared/adapters/sfn-workflows';
import { WorkflowNameTaken, type WorkflowStarter } from '#shared/ports/workflows';
import { attemptName, currentWorkflow, startWorkflow } from '#shared/workflows/attempts';

/**
 * The two adapters of the workflow port answer alike: the local one on the interpreter, the Step
 * Functions one through the SDK to a stand-in that gives the service's answers (the same
 * interpreter behind StartExecution/DescribeExecution, its refusals as the SDK's
 * ExecutionAlreadyExists/ExecutionDoesNotExist). Execution names follow StartExecution's rule
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html): the same
 * name and input while RUNNING returns that execution; a closed name, or another input, is refused.
 */

const TASK = 'arn:aws:lambda:us-east-1:000000000000:function:work';
const definition = {
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: TASK, ResultPath: null, End: true } },
};

/** Work that runs until released, one release per run, counted by the input's `job`. */
function gatedTask() {
  const runs = new Map<string, number>();
  const gates: Array<() => void> = [];
  const task = async (input: unknown) => {
    const { job } = input as { job: string };
    runs.set(job, (runs.get(job) ?? 0) + 1);
    await new Promise<void>((resolve) => gates.push(resolve));
    return null;
  };
  const releaseAll = () => {
    for (const release of gates.splice(0)) release();
  };
  return { task, runs, releaseAll };
}

/** Step Functions as the SDK sees it, answered by the interpreter. */
function sfnOver(runner: LocalWorkflowRunner): SFNClient {
  const client = new SFNClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });
  const sfn = mockClient(client);
  const nameOf = (executionArn: string | undefined) => executionArn?.split(':').pop() ?? '';
  sfn.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
    try {
      const started = await runner.start(input.name, JSON.parse(input.input));
      return { executionArn: started.executionArn, startDate: new Date(started.startDate) };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists)
        throw new SfnExecutionAlreadyExists({ message: error.message, $metadata: {} });
      throw error;
    }
  });
  sfn.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
    try {
      const execution = runner.describe(nameOf(input.executionArn));
      return {
        executionArn: execution.executionArn,
        status: execution.status,
        startDate: new Date(execution.startDate),
        ...(execution.stopDate ? { stopDate: new Date(execution.stopDate) } : {}),
        ...(execution.error ? { error: execution.error } : {}),
      };
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist)
        throw new SfnExecutionDoesNotExist({ message: error.message, $metadata: {} });
      throw error;
    }
  });
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [] });
  return client;
}

const adapters: Array<[string, (runner: LocalWorkflowRunner) => WorkflowStarter]> = [
  ['LocalWorkflowStarter', (runner) => new LocalWorkflowStarter(runner)],
  ['SfnWorkflowStarter', (runner) => new SfnWorkflowStarter(sfnOver(runner), runner.stateMachineArn)],
];

describe.each(adapters)('%s (the workflow port)', (_, adapterFor) => {
  let dataDir: string;
  let runner: LocalWorkflowRunner;
  let workflows: WorkflowStarter;
  const gated = gatedTask();

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-starters-'));
    runner = await createLocalWorkflowRunner({ definition, tasks: { [TASK]: gated.task }, dataDir });
    workflows = adapterFor(runner);
  });
  afterAll(async () => {
    gated.releaseAll();
    await runner.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('returns the running execution for the same name and input, and starts nothing else', async () => {
    // Arrange
    const first = await workflows.start('job-running', { job: 'running' });

    // Act
    const again = await workflows.start('job-running', { job: 'running' });

    // Assert
    expect(again).toEqual(first);
    expect((await workflows.describe('job-running'))?.status).toBe('RUNNING');
    expect(gated.runs.get('running')).toBe(1);
    await expect(workflows.start('job-running', { job: 'running', other: true })).rejects.toBeInstanceOf(
      WorkflowNameTaken,
    );
    gated.releaseAll();
    await runner.waitFor('job-running');
  });

  it('refuses a name whose execution has closed, instead of pretending it started', async () => {
    // Arrange
    await workflows.start('job-closed', { job: 'closed' });
    gated.releaseAll();
    await runner.waitFor('job-closed');

    // Act
    const restart = workflows.start('job-closed', { job: 'closed' });

    // Assert
    await expect(restart).rejects.toBeInstanceOf(WorkflowNameTaken);
    expect(gated.runs.get('closed')).toBe(1);
  });

  it('re-runs closed work under the next attempt name, returns that attempt while it runs, and describes it as current', async () => {
    // Arrange: the first attempt ran and closed.
    const first = await startWorkflow(workflows, 'job-rerun', { job: 'rerun' });
    gated.releaseAll();
    await runner.waitFor(first.name);

    // Act: the work is asked for again, twice, while the re-run runs.
    const rerun = await startWorkflow(workflows, 'job-rerun', { job: 'rerun' });
    const again = await startWorkflow(workflows, 'job-rerun', { job: 'rerun' });

    // Assert
    expect(first).toMatchObject({ name: 'job-rerun', attempt: 1 });
    expect(rerun).toMatchObject({ name: attemptName('job-rerun', 2), attempt: 2 });
    expect(again).toEqual(rerun);
    expect(gated.runs.get('rerun')).toBe(2);
    expect(await currentWorkflow(workflows, 'job-rerun')).toMatchObject({
      name: 'job-rerun-a2',
      attempt: 2,
      status: 'RUNNING',
      executionId: rerun.executionId,
    });
    expect(await currentWorkflow(workflows, 'job-never-started')).toBeNull();
    gated.releaseAll();
    await runner.waitFor(rerun.name);
  });
});
