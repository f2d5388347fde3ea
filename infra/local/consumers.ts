import { Worker } from 'node:worker_threads';
import type { AwsClients } from '#shared/composition/aws-clients';

/**
 * What a consumer function is given: its environment, and its clients' region, endpoints and
 * credentials (its own role's). The thread composes the function's services from these.
 */
export type ConsumerConfig = (entry: string) => {
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly clients: AwsClients;
};

/** Outside the platform (a test of the thread alone): this process's environment, default clients. */
const processConfig: ConsumerConfig = () => ({ environment: { ...process.env }, clients: {} });

import { FunctionUnreachable } from './async-invoke.ts';
import { localFunctionArn } from './local-functions.ts';

/** A consumer failure reported by the consumer thread, with the name, message and stack it threw. */
export class ConsumerFailed extends Error {
  /** The stack, line by line, as the Node.js runtime reports it (`trace`). */
  readonly trace: readonly string[];

  constructor(name: string, message: string, trace: readonly string[] = []) {
    super(message);
    this.name = name;
    this.trace = trace;
  }
}

/** What the consumer thread answers a delivery (consumer-worker.ts). */
export type ConsumerReply =
  | { readonly id: number; readonly ok: true; readonly result?: unknown }
  | { readonly id: number; readonly ok: false; readonly missing: true }
  | {
      readonly id: number;
      readonly ok: false;
      readonly missing?: false;
      readonly name: string;
      readonly message: string;
      readonly trace: readonly string[];
    };

/**
 * Runs event consumer handlers on their own thread (see consumer-worker.ts). `deliver` is one
 * synchronous invocation: it resolves with the handler's answer when the handler has finished and rejects with its error
 * (`ConsumerFailed`), as a Lambda invocation would. When the invocation cannot be made at all it
 * rejects with `FunctionUnreachable`: `ResourceNotFoundException` for a handler module that does
 * not exist (there is no such function), `ServiceException` when the thread stopped or crashed with
 * the invocation in it (the next delivery starts a new thread, as Lambda would a new instance).
 */
export class ConsumerThread {
  #running: RunningThread | undefined;
  #nextId = 0;

  constructor(private readonly configFor: ConsumerConfig = processConfig) {}

  #start(): RunningThread {
    // The thread registers tsx itself (consumer-thread.mjs): the handlers are TypeScript. Its
    // process environment is this one's (the logger's level); the functions' own comes with each
    // delivery.
    const worker = new Worker(new URL('./consumer-thread.mjs', import.meta.url), {
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN' },
    });
    // Each thread's own invocations: a thread that is gone fails only what it had taken.
    const running: RunningThread = { worker, pending: new Map() };
    worker.on('message', (reply: ConsumerReply) => {
      const pending = running.pending.get(reply.id);
      if (!pending) return;
      running.pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.result);
      else if (reply.missing) pending.reject(notFound(pending.handler));
      else pending.reject(new ConsumerFailed(reply.name, reply.message, reply.trace));
    });
    const gone = (reason: string) => {
      if (this.#running === running) this.#running = undefined;
      for (const pending of running.pending.values()) {
        pending.reject(new FunctionUnreachable('ServiceException', `The consumer thread ${reason}`));
      }
      running.pending.clear();
    };
    worker.on('error', (error) => gone(`failed: ${error.message}`));
    worker.on('exit', (code) => gone(`exited (${code})`));
    // The thread must not keep the process alive on its own.
    worker.unref();
    return running;
  }

  deliver(handler: string, event: unknown): Promise<unknown> {
    this.#running ??= this.#start();
    const running = this.#running;
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      running.pending.set(id, { handler, resolve, reject });
      running.worker.postMessage({ id, handler, event, ...this.configFor(handler) });
    });
  }

  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running?.worker.terminate();
  }
}

interface RunningThread {
  readonly worker: Worker;
  readonly pending: Map<
    number,
    { readonly handler: string; resolve(result: unknown): void; reject(error: Error): void }
  >;
}

/** What Lambda's Invoke answers for a function that does not exist. */
const notFound = (handler: string) =>
  new FunctionUnreachable('ResourceNotFoundException', `Function not found: ${localFunctionArn(handler)}`);
