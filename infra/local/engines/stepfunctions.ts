/**
 * Runs the provisioning state machine (the same ASL definition the CDK stack deploys) with the
 * `aws-local-stepfunctions` interpreter, each Task state mapped to the local implementation of
 * the same step. Around the interpreter we add what the service does and the library does not:
 * named executions with Step Functions' idempotency rule, DescribeExecution-like records with a
 * step history, and (optionally) records persisted as JSON so they survive restarts (those two
 * are in ./stepfunctions-executions.ts).
 */
import './promise-with-resolvers.ts';
import path from 'node:path';
import type { StateMachine as LibraryStateMachine, RunOptions } from 'aws-local-stepfunctions';
import {
  applyEvent,
  describeFailure,
  type ExecutionDescription,
  type ExecutionRecord,
  ExecutionStore,
  snapshot,
} from './stepfunctions-executions.ts';

export type {
  ExecutionDescription,
  ExecutionStatus,
  ExecutionStep,
} from './stepfunctions-executions.ts';

type JsonValue = Parameters<LibraryStateMachine['run']>[0];
type LibraryDefinition = ConstructorParameters<typeof LibraryStateMachine>[0];

export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface WorkflowRunnerOptions {
  /** The Amazon States Language definition (as deployed by CDK). */
  definition: object;
  /**
   * Local implementation per Task `Resource` ARN. For the optimised integration
   * `arn:aws:states:::lambda:invoke` the key is the state's `Parameters.FunctionName` instead.
   * Every Task state must be mapped: the interpreter would otherwise call real AWS Lambda.
   */
  tasks: Record<string, TaskHandler>;
  /** Used in execution ARNs and as the persistence sub-folder. Default `provisioning`. */
  stateMachineName?: string;
  /** When set, execution records are kept as `<dataDir>/<stateMachineName>/<name>.json`. */
  dataDir?: string;
  /**
   * Replace every Retry pause with this many milliseconds (tests: 0 or a few ms). The definition
   * says seconds with backoff; the interpreter supports only a fixed override, so backoff and
   * jitter are not exercised when this is set.
   */
  retryIntervalMs?: number;
  /** Replace every Wait state's duration with this many milliseconds. */
  waitMs?: number;
  /** The clock that ages closed executions out after 90 days (tests move it). Default `Date.now`. */
  now?: () => number;
}

export interface StartedExecution {
  executionArn: string;
  startDate: string;
}

export interface LocalWorkflowRunner {
  stateMachineArn: string;
  /**
   * Like StartExecution: a name already used with the same input while that execution is still
   * RUNNING returns it again; any other reuse of a name throws ExecutionAlreadyExists, until 90
   * days after that execution closed.
   */
  start(executionName: string, input: unknown): Promise<StartedExecution>;
  describe(executionName: string): ExecutionDescription;
  /** Resolves when the execution is no longer RUNNING. */
  waitFor(executionName: string): Promise<ExecutionDescription>;
  list(): ExecutionDescription[];
  /** Aborts running executions (recorded as ABORTED) and flushes records to disk. */
  stop(): Promise<void>;
}

/** Worded as Step Functions words it: `Execution Already Exists: '<execution ARN>'`. */
export class ExecutionAlreadyExists extends Error {
  constructor(
    readonly executionName: string,
    readonly executionArn: string,
  ) {
    super(`Execution Already Exists: '${executionArn}'`);
    this.name = 'ExecutionAlreadyExists';
  }
}

export class ExecutionDoesNotExist extends Error {
  constructor(readonly executionName: string) {
    super(`Execution does not exist: ${executionName}`);
    this.name = 'ExecutionDoesNotExist';
  }
}

export class InvalidExecutionName extends Error {
  constructor(readonly executionName: string) {
    super(`Invalid execution name: ${JSON.stringify(executionName)}`);
    this.name = 'InvalidName';
  }
}

/** A Task state has no local implementation; raised when the runner is created, not mid-run. */
export class UnmappedTaskState extends Error {
  constructor(
    readonly stateName: string,
    readonly resource: string,
  ) {
    super(`Task state ${stateName} (${resource}) has no local handler`);
    this.name = 'UnmappedTaskState';
  }
}

/** Execution names as Step Functions accepts them: 1–80 chars, none of its forbidden characters. */
const FORBIDDEN_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

function isValidExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || FORBIDDEN_NAME_CHARACTERS.test(name)) return false;
  // Control characters (U+0000–U+001F, U+007F–U+009F) are forbidden too.
  return [...name].every((char) => {
    const code = char.codePointAt(0) ?? 0;
    return code > 0x1f && (code < 0x7f || code > 0x9f);
  });
}

/**
 * A name is unique per state machine for 90 days: "You can reuse names after 90 days"
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html), and the
 * history of a closed execution is kept that long
 * (https://docs.aws.amazon.com/step-functions/latest/dg/limits-overview.html). Counted from its close.
 */
const NAME_REUSE_AFTER_MS = 90 * 24 * 60 * 60 * 1000;

interface LiveExecution {
  record: ExecutionRecord;
  done: Promise<void>;
  abort: () => void;
}

export async function createLocalWorkflowRunner(
  options: WorkflowRunnerOptions,
): Promise<LocalWorkflowRunner> {
  // Loaded only after the polyfill above has run.
  const { StateMachine } = await import('aws-local-stepfunctions');
  const definition = options.definition as LibraryDefinition;
  const machineName = options.stateMachineName ?? 'provisioning';
  const stateMachineArn = `arn:aws:states:local:000000000000:stateMachine:${machineName}`;
  const machine = new StateMachine(definition);
  const runOverrides = buildOverrides(options);

  const folder =
    options.dataDir === undefined ? undefined : path.join(path.resolve(options.dataDir), machineName);
  const store = await ExecutionStore.open(folder);
  const records = store.records;
  const live = new Map<string, LiveExecution>();
  const now = options.now ?? Date.now;
  /** The execution of that name, unless it closed 90 days ago or more (then the name is free). */
  const current = (name: string): ExecutionRecord | undefined => {
    const record = records.get(name);
    if (record?.stopDate === undefined || record.status === 'RUNNING') return record;
    return now() - Date.parse(record.stopDate) >= NAME_REUSE_AFTER_MS ? undefined : record;
  };

  const run = (record: ExecutionRecord): LiveExecution => {
    const execution = machine.run(
      record.input as JsonValue,
      {
        ...runOverrides,
        noThrowOnAbort: true,
        context: {
          Execution: { Id: record.executionArn, Name: record.name, StartTime: record.startDate },
          StateMachine: { Id: stateMachineArn, Name: machineName },
        },
      } as RunOptions,
    );

    const consumeEvents = (async () => {
      for await (const event of execution.eventLogs) {
        applyEvent(record, event);
        void store.persist(record);
      }
    })();

    const done = (async () => {
      try {
        const output = await execution.result;
        if (record.status === 'RUNNING') {
          record.status = 'SUCCEEDED';
          record.output = output;
        }
      } catch (error) {
        if (record.status === 'RUNNING') {
          const failure = describeFailure(error);
          record.status = failure.status;
          record.error = failure.error;
          record.cause = failure.cause;
        }
      }
      await consumeEvents;
      record.stopDate ??= new Date().toISOString();
      await store.persist(record);
      live.delete(record.name);
    })();

    return { record, done, abort: execution.abort };
  };

  return {
    stateMachineArn,

    async start(executionName, input) {
      if (!isValidExecutionName(executionName)) throw new InvalidExecutionName(executionName);
      const inputJson = JSON.stringify(input ?? {});
      const existing = current(executionName);
      if (existing !== undefined) {
        if (existing.status === 'RUNNING' && existing.inputJson === inputJson) {
          return { executionArn: existing.executionArn, startDate: existing.startDate };
        }
        throw new ExecutionAlreadyExists(executionName, existing.executionArn);
      }
      const record: ExecutionRecord = {
        executionArn: `arn:aws:states:local:000000000000:execution:${machineName}:${executionName}`,
        stateMachineArn,
        name: executionName,
        status: 'RUNNING',
        input: JSON.parse(inputJson),
        inputJson,
        startDate: new Date().toISOString(),
        history: [],
      };
      records.set(executionName, record);
      await store.persist(record);
      live.set(executionName, run(record));
      return { executionArn: record.executionArn, startDate: record.startDate };
    },

    describe(executionName) {
      const record = current(executionName);
      if (record === undefined) throw new ExecutionDoesNotExist(executionName);
      return snapshot(record);
    },

    async waitFor(executionName) {
      const record = current(executionName);
      if (record === undefined) throw new ExecutionDoesNotExist(executionName);
      await live.get(executionName)?.done;
      return snapshot(record);
    },

    list() {
      return [...records.keys()].flatMap((name) => {
        const record = current(name);
        return record === undefined ? [] : [snapshot(record)];
      });
    },

    async stop() {
      const running = [...live.values()];
      for (const execution of running) {
        execution.record.status = 'ABORTED';
        execution.record.stopDate = new Date().toISOString();
        execution.abort();
      }
      await Promise.all(running.map((execution) => execution.done));
      await store.flush();
    },
  };
}

/** Maps Task states to handlers by Resource and turns the wait options into library overrides. */
function buildOverrides(options: WorkflowRunnerOptions): RunOptions {
  const taskResourceLocalHandlers: Record<string, (input: JsonValue) => Promise<JsonValue>> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  const waitTimeOverrides: Record<string, number> = {};

  for (const [stateName, state] of allStates(options.definition)) {
    if (state.Type === 'Task') {
      const resource = String(state.Resource);
      const parameters = state.Parameters as Record<string, unknown> | undefined;
      const key = resource.startsWith('arn:aws:states:::lambda:invoke')
        ? String(parameters?.FunctionName)
        : resource;
      const handler = options.tasks[key] ?? options.tasks[resource];
      if (handler === undefined) throw new UnmappedTaskState(stateName, resource);
      const existing = taskResourceLocalHandlers[stateName];
      const wrapped = async (input: JsonValue) => (await handler(input)) as JsonValue;
      if (existing !== undefined) {
        // The library keys overrides by state name, shared by nested Map/Parallel machines.
        throw new Error(`Task state name ${stateName} is used twice; local overrides need unique names`);
      }
      taskResourceLocalHandlers[stateName] = wrapped;
    }
    if (options.retryIntervalMs !== undefined && Array.isArray(state.Retry)) {
      retryIntervalOverrides[stateName] = options.retryIntervalMs;
    }
    if (options.waitMs !== undefined && state.Type === 'Wait') {
      waitTimeOverrides[stateName] = options.waitMs;
    }
  }
  return { overrides: { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides } };
}

type AslState = Record<string, unknown> & { Type?: string };

/** Every state, including those inside Parallel branches and Map iterators. */
function* allStates(machine: object): Generator<[string, AslState]> {
  const states = (machine as { States?: Record<string, AslState> }).States ?? {};
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    if (Array.isArray(state.Branches)) {
      for (const branch of state.Branches) yield* allStates(branch as object);
    }
    const iterator = (state.ItemProcessor ?? state.Iterator) as object | undefined;
    if (iterator !== undefined) yield* allStates(iterator);
  }
}
