/**
 * The executions of the local Step Functions runner as the service describes them: each one's
 * record with a step history built from the interpreter's events, and the store that keeps the
 * records (as JSON files when given a folder) so they survive restarts.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { StateMachine as LibraryStateMachine } from 'aws-local-stepfunctions';

type EventLog =
  ReturnType<LibraryStateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

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

const INTERRUPTED = {
  error: 'Local.Interrupted',
  cause: 'The local platform stopped while this execution was running; start a new execution.',
};

export interface ExecutionRecord extends ExecutionDescription {
  /** Input as Step Functions compares it: the JSON text. */
  inputJson: string;
}

/** Every execution's record, written through to `folder` (when there is one) as it changes. */
export class ExecutionStore {
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    private readonly folder: string | undefined,
    readonly records: Map<string, ExecutionRecord>,
  ) {}

  /** Reads the records kept in `folder`; an execution that was running is marked interrupted. */
  static async open(folder: string | undefined): Promise<ExecutionStore> {
    return new ExecutionStore(
      folder,
      new Map<string, ExecutionRecord>(folder === undefined ? [] : await loadRecords(folder)),
    );
  }

  persist(record: ExecutionRecord): Promise<void> {
    const folder = this.folder;
    if (folder === undefined) return Promise.resolve();
    // One write chain per execution, so an older snapshot never lands after a newer one.
    const previous = this.writes.get(record.name) ?? Promise.resolve();
    const next = previous.then(() => writeJsonAtomically(path.join(folder, `${record.name}.json`), record));
    this.writes.set(record.name, next);
    return next;
  }

  /** Resolves when every write started so far has landed. */
  async flush(): Promise<void> {
    await Promise.all(this.writes.values());
  }
}

export function applyEvent(record: ExecutionRecord, event: EventLog): void {
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

export function describeFailure(error: unknown): { status: ExecutionStatus; error: string; cause: string } {
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

export function snapshot(record: ExecutionRecord): ExecutionDescription {
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
