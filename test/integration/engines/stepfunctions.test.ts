import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLocalWorkflowRunner,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  type LocalWorkflowRunner,
  UnmappedTaskState,
} from '#infra/local/engines/stepfunctions';

class TransientError extends Error {
  override name = 'TransientError';
}

const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

/** A small saga shaped like the provisioning workflow: retry on transient errors, compensate on failure. */
const definition = {
  StartAt: 'CreateDatabase',
  States: {
    CreateDatabase: {
      Type: 'Task',
      Resource: arn('create-database'),
      ResultPath: '$.database',
      Retry: [{ ErrorEquals: ['TransientError'], IntervalSeconds: 5, BackoffRate: 2, MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'DropDatabase' }],
      Next: 'Done',
    },
    DropDatabase: {
      Type: 'Task',
      Resource: arn('drop-database'),
      ResultPath: null,
      Next: 'ProvisioningFailed',
    },
    ProvisioningFailed: { Type: 'Fail', Error: 'ProvisioningFailed', Cause: 'database step failed' },
    Done: {
      Type: 'Pass',
      Parameters: {
        'tenantId.$': '$.tenantId',
        'database.$': '$.database',
        'execution.$': '$$.Execution.Name',
      },
      End: true,
    },
  },
};

interface Input {
  tenantId: string;
  mode: 'ok' | 'flaky' | 'broken' | 'slow';
}

describe('local Step Functions runner', () => {
  let dataDir: string;
  let runner: LocalWorkflowRunner;
  const calls: Record<string, number> = {};
  const attempts = new Map<string, number>();
  let releaseSlow: () => void = () => {};
  const slow = new Promise<void>((resolve) => {
    releaseSlow = resolve;
  });

  const tasks = {
    [arn('create-database')]: async (input: unknown) => {
      const { tenantId, mode } = input as Input;
      calls[tenantId] = (calls[tenantId] ?? 0) + 1;
      if (mode === 'slow') await slow;
      if (mode === 'broken') throw new Error('permission denied to create database');
      if (mode === 'flaky') {
        const seen = attempts.get(tenantId) ?? 0;
        attempts.set(tenantId, seen + 1);
        if (seen < 2) throw new TransientError('connection reset');
      }
      return `tenant_${tenantId}`;
    },
    [arn('drop-database')]: async (input: unknown) => {
      const { tenantId } = input as Input;
      calls[`drop:${tenantId}`] = (calls[`drop:${tenantId}`] ?? 0) + 1;
      return null;
    },
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-sfn-'));
    runner = await createLocalWorkflowRunner({ definition, tasks, dataDir, retryIntervalMs: 1 });
  });

  afterAll(async () => {
    releaseSlow();
    await runner.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('runs the success path and exposes the execution name in the context object', async () => {
    await runner.start('tenant-ok', { tenantId: 'ok', mode: 'ok' });
    const done = await runner.waitFor('tenant-ok');
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toEqual({ tenantId: 'ok', database: 'tenant_ok', execution: 'tenant-ok' });
    expect(done.stopDate).toBeDefined();
    expect(done.history.map((step) => [step.name, step.status])).toEqual([
      ['CreateDatabase', 'SUCCEEDED'],
      ['Done', 'SUCCEEDED'],
    ]);
  });

  it('retries a TransientError and then succeeds, recording the retries in the history', async () => {
    await runner.start('tenant-flaky', { tenantId: 'flaky', mode: 'flaky' });
    const done = await runner.waitFor('tenant-flaky');
    expect(done.status).toBe('SUCCEEDED');
    expect(calls.flaky).toBe(3);
    const step = done.history[0];
    expect(step).toMatchObject({ name: 'CreateDatabase', status: 'SUCCEEDED', retries: 2 });
    expect(step?.errors.map((error) => error.error)).toEqual(['TransientError', 'TransientError']);
    expect(Date.parse(step?.exitedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(step?.enteredAt ?? ''));
  });

  it('follows Catch to the compensation step and fails the execution', async () => {
    await runner.start('tenant-broken', { tenantId: 'broken', mode: 'broken' });
    const done = await runner.waitFor('tenant-broken');
    expect(done).toMatchObject({
      status: 'FAILED',
      error: 'ProvisioningFailed',
      cause: 'database step failed',
    });
    expect(calls['drop:broken']).toBe(1);
    expect(done.history.map((step) => [step.name, step.status])).toEqual([
      ['CreateDatabase', 'CAUGHT'],
      ['DropDatabase', 'SUCCEEDED'],
      ['ProvisioningFailed', 'FAILED'],
    ]);
    expect(done.history[0]?.errors[0]).toMatchObject({
      error: 'Error',
      cause: 'permission denied to create database',
    });
  });

  it('never runs the same execution name twice', async () => {
    const input = { tenantId: 'slow', mode: 'slow' };
    const first = await runner.start('tenant-slow', input);
    const repeat = await runner.start('tenant-slow', input);
    expect(repeat).toEqual(first);
    await expect(runner.start('tenant-slow', { ...input, extra: true })).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    expect(runner.describe('tenant-slow').status).toBe('RUNNING');

    releaseSlow();
    await runner.waitFor('tenant-slow');
    // Like Step Functions: a closed execution's name cannot be reused, even with the same input.
    await expect(runner.start('tenant-slow', input)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(calls.slow).toBe(1);
  });

  it('answers a reused name with ExecutionAlreadyExists and the message Step Functions gives', async () => {
    // "Execution Already Exists: '<execution ARN>'", as the service words it (seen in a Lambda's
    // logs: https://github.com/CloudSnorkel/cdk-github-runners/issues/472).
    const executionArn = runner.describe('tenant-ok').executionArn;
    await expect(runner.start('tenant-ok', { tenantId: 'ok', mode: 'ok' })).rejects.toMatchObject({
      name: 'ExecutionAlreadyExists',
      message: `Execution Already Exists: '${executionArn}'`,
    });
  });

  it('keeps execution records across a restart', async () => {
    const restarted = await createLocalWorkflowRunner({ definition, tasks, dataDir, retryIntervalMs: 1 });
    expect(restarted.describe('tenant-ok')).toEqual(runner.describe('tenant-ok'));
    await expect(restarted.start('tenant-ok', { tenantId: 'ok', mode: 'ok' })).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    expect(() => restarted.describe('never-started')).toThrow(ExecutionDoesNotExist);
    await restarted.stop();
  });

  it('lets a name be used again 90 days after its execution closed, and not a moment before, even across a restart', async () => {
    // StartExecution: "If the execution is closed or if the input is different, it returns a 400
    // ExecutionAlreadyExists error. You can reuse names after 90 days."
    // (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html);
    // execution history is kept 90 days (https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html).
    const input = { tenantId: 'aged', mode: 'ok' };
    await runner.start('tenant-aged', input);
    const closed = await runner.waitFor('tenant-aged');
    const closedAt = Date.parse(closed.stopDate ?? '');
    const ninetyDays = 90 * 24 * 60 * 60 * 1000;
    let clock = closedAt + ninetyDays - 1;
    const aged = await createLocalWorkflowRunner({
      definition,
      tasks,
      dataDir,
      retryIntervalMs: 1,
      now: () => clock,
    });
    try {
      await expect(aged.start('tenant-aged', input)).rejects.toBeInstanceOf(ExecutionAlreadyExists);
      expect(aged.describe('tenant-aged').status).toBe('SUCCEEDED');

      clock = closedAt + ninetyDays;
      expect(() => aged.describe('tenant-aged')).toThrow(ExecutionDoesNotExist);
      expect(aged.list().map((execution) => execution.name)).not.toContain('tenant-aged');
      const again = await aged.start('tenant-aged', input);
      expect(again.executionArn).toBe(closed.executionArn);
      expect((await aged.waitFor('tenant-aged')).status).toBe('SUCCEEDED');
      expect(calls.aged).toBe(2);
    } finally {
      await aged.stop();
    }
  });

  it('refuses execution names Step Functions refuses', async () => {
    for (const name of ['', 'has space', 'a/b', 'x'.repeat(81), 'bell\u0007']) {
      await expect(runner.start(name, {})).rejects.toMatchObject({ name: 'InvalidName' });
    }
  });

  it('refuses a definition with a Task state that has no local handler', async () => {
    await expect(
      createLocalWorkflowRunner({ definition, tasks: { [arn('create-database')]: async () => null } }),
    ).rejects.toBeInstanceOf(UnmappedTaskState);
  });
});
