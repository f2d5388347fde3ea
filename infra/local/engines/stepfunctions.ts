/**
 * Runs the provisioning state machine (the same ASL definition the CDK stack deploys) with the
 * `aws-local-stepfunctions` interpreter, each Task state mapped to the local implementation of
 * the same step. Around the interpreter we add what the service does and the library does not:
 * named executions with Step Functions' idempotency rule, DescribeExecution-like records with a
 * step history, and (optionally) records persisted as JSON so they survive restarts.
 */
import './promise-with-resolvers.ts';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StateMachine as LibraryStateMachine, RunOptions } from 'aws-local-stepfunctions';

type JsonValue = Parameters<LibraryStateMachine['run']>[0];
type LibraryDefinition = ConstructorParameters<typeof LibraryStateMachine>[0];
type EventLog =
  ReturnType<LibraryStateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

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
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One visit of a state. A state retried N times is one step with `retries: N`. */
export interface ExecutionStep {
  name: string;
  type: string;
  /** Map iteration index, when the state ran inside a Map. */
  iteration?: number;
  /** RUNNING while in the state; CAUGHT when a Catch routed the error onwards. */
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CAUGHT';
  enteredAt: string;
  exitedAt?: string;
  retries: number;
  /** Every error the state raised, including ones that were retried or caught. */
  errors: { error: string; cause: string; at: string }[];
}

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  output?: unknown;
  error?: string;
  cause?: string;
  startDate: string;
  stopDate?: string;
  history: ExecutionStep[];
}

export interface StartedExecution {
  executionArn: string;
  startDate: string;
}

export interface LocalWorkflowRunner {
  stateMachineArn: string;
  /**
   * Like StartExecution: a name already used with the same input while that execution is still
   * RUNNING returns it again; any other reuse of a name throws ExecutionAlreadyExists.
   */
  start(executionName: string, input: unknown): Promise<StartedExecution>;
  describe(executionName: string): ExecutionDescription;
  /** Resolves when the execution is no longer RUNNING. */
  waitFor(executionName: string): Promise<ExecutionDescription>;
  list(): ExecutionDescription[];
  /** Aborts running executions (recorded as ABORTED) and flushes records to disk. */
  stop(): Promise<void>;
}

export class ExecutionAlreadyExists extends Error {
  constructor(readonly executionName: string) {
    super(`Execution already exists: ${executionName}`);
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
const INTERRUPTED = {
  error: 'Local.Interrupted',
  cause: 'The local platform stopped while this execution was running; start a new execution.',
};

interface ExecutionRecord extends ExecutionDescription {
  /** Input as Step Functions compares it: the JSON text. */
  inputJson: string;
}

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
  const records = new Map<string, ExecutionRecord>(folder === undefined ? [] : await loadRecords(folder));
  const live = new Map<string, LiveExecution>();
  const writes = new Map<string, Promise<void>>();

  const persist = (record: ExecutionRecord): Promise<void> => {
    if (folder === undefined) return Promise.resolve();
    // One write chain per execution, so an older snapshot never lands after a newer one.
    const previous = writes.get(record.name) ?? Promise.resolve();
    const next = previous.then(() => writeJsonAtomically(path.join(folder, `${record.name}.json`), record));
    writes.set(record.name, next);
    return next;
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
        void persist(record);
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
      await persist(record);
      live.delete(record.name);
    })();

    return { record, done, abort: execution.abort };
  };

  return {
    stateMachineArn,

    async start(executionName, input) {
      if (!isValidExecutionName(executionName)) throw new InvalidExecutionName(executionName);
      const inputJson = JSON.stringify(input ?? {});
      const existing = records.get(executionName);
      if (existing !== undefined) {
        if (existing.status === 'RUNNING' && existing.inputJson === inputJson) {
          return { executionArn: existing.executionArn, startDate: existing.startDate };
        }
        throw new ExecutionAlreadyExists(executionName);
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
      await persist(record);
      live.set(executionName, run(record));
      return { executionArn: record.executionArn, startDate: record.startDate };
    },

    describe(executionName) {
      const record = records.get(executionName);
      if (record === undefined) throw new ExecutionDoesNotExist(executionName);
      return snapshot(record);
    },

    async waitFor(executionName) {
      const record = records.get(executionName);
      if (record === undefined) throw new ExecutionDoesNotExist(executionName);
      await live.get(executionName)?.done;
      return snapshot(record);
    },

    list() {
      return [...records.values()].map(snapshot);
    },

    async stop() {
      const running = [...live.values()];
      for (const execution of running) {
        execution.record.status = 'ABORTED';
        execution.record.stopDate = new Date().toISOString();
        execution.abort();
      }
      await Promise.all(running.map((execution) => execution.done));
      await Promise.all(writes.values());
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

function applyEvent(record: ExecutionRecord, event: EventLog): void {
  const at = new Date(event.timestamp).toISOString();
  switch (event.type) {
    case 'StateEntered':
      record.history.push({
        name: event.state.name,
        type: event.state.type,
        ...(event.index === undefined ? {} : { iteration: event.index }),
        status: 'RUNNING',
        enteredAt: at,
        retries: 0,
        errors: [],
      });
      return;
    case 'StateFailed': {
      const step = openStep(record, event.state.name, event.index);
      if (step === undefined) return;
      step.status = 'FAILED';
      step.exitedAt = at;
      step.errors.push({ error: event.Error, cause: stringify(event.Cause), at });
      return;
    }
    case 'StateRetried': {
      const step = lastStep(record, event.state.name, event.index);
      if (step === undefined) return;
      step.status = 'RUNNING';
      delete step.exitedAt;
      step.retries += 1;
      return;
    }
    case 'StateCaught': {
      const step = lastStep(record, event.state.name, event.index);
      if (step !== undefined) step.status = 'CAUGHT';
      return;
    }
    case 'StateExited': {
      const step = lastStep(record, event.state.name, event.index);
      if (step === undefined) return;
      if (step.status !== 'CAUGHT') step.status = 'SUCCEEDED';
      step.exitedAt = at;
      return;
    }
    case 'ExecutionSucceeded':
      if (record.status !== 'RUNNING') return;
      record.status = 'SUCCEEDED';
      record.output = event.output;
      record.stopDate = at;
      return;
    case 'ExecutionFailed':
      if (record.status !== 'RUNNING') return;
      record.status = 'FAILED';
      record.error = event.Error;
      record.cause = stringify(event.Cause);
      record.stopDate = at;
      return;
    default:
      return;
  }
}

function openStep(
  record: ExecutionRecord,
  name: string,
  index: number | undefined,
): ExecutionStep | undefined {
  const step = lastStep(record, name, index);
  return step?.status === 'RUNNING' ? step : undefined;
}

function lastStep(
  record: ExecutionRecord,
  name: string,
  index: number | undefined,
): ExecutionStep | undefined {
  return record.history.findLast((step) => step.name === name && step.iteration === index);
}

function describeFailure(error: unknown): { status: ExecutionStatus; error: string; cause: string } {
  if (error instanceof Error && error.name === 'ExecutionTimeoutError') {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: error.message };
  }
  // ExecutionError wraps the state's error as `cause`; its name is the ASL error name.
  const inner = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (inner instanceof Error) return { status: 'FAILED', error: inner.name, cause: inner.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(inner) };
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return value.message;
  return JSON.stringify(value) ?? '';
}

function snapshot(record: ExecutionRecord): ExecutionDescription {
  const { inputJson: _inputJson, ...description } = record;
  return structuredClone(description);
}

async function loadRecords(folder: string): Promise<[string, ExecutionRecord][]> {
  await mkdir(folder, { recursive: true });
  const entries: [string, ExecutionRecord][] = [];
  for (const file of await readdir(folder)) {
    if (!file.endsWith('.json')) continue;
    const record = JSON.parse(await readFile(path.join(folder, file), 'utf8')) as ExecutionRecord;
    if (record.status === 'RUNNING') {
      // The interpreter keeps no state outside this process, so it cannot resume the execution.
      record.status = 'FAILED';
      record.error = INTERRUPTED.error;
      record.cause = INTERRUPTED.cause;
      record.stopDate = new Date().toISOString();
      await writeJsonAtomically(path.join(folder, file), record);
    }
    entries.push([record.name, record]);
  }
  return entries;
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}
