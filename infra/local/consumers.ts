import { Worker } from 'node:worker_threads';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';

/** The credentials a consumer function's clients sign with (its own role's); undefined for none. */
export type ConsumerCredentials = (entry: string) => AwsClientConfig['credentials'];

/** A consumer failure reported by the consumer thread, with the name and message it threw. */
export class ConsumerFailed extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Runs event consumer handlers on their own thread (see consumer-worker.ts). `deliver` resolves
 * when the handler has finished and rejects with its error, as a Lambda invocation would.
 */
export class ConsumerThread {
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(private readonly credentialsFor: ConsumerCredentials = () => undefined) {}

  #start(): Worker {
    // Started on the first delivery, when the platform's environment is complete; the thread gets a copy.
    // The thread registers tsx itself (consumer-thread.mjs): the handlers are TypeScript.
    const worker = new Worker(new URL('./consumer-thread.mjs', import.meta.url), { env: { ...process.env } });
    worker.on('message', (reply: { id: number; ok: boolean; name?: string; message?: string }) => {
      const pending = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (reply.ok) pending?.resolve();
      else pending?.reject(new ConsumerFailed(reply.name ?? 'Error', reply.message ?? 'consumer failed'));
    });
    worker.on('error', (error) => {
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      this.#worker = undefined;
    });
    // The thread must not keep the process alive on its own.
    worker.unref();
    return worker;
  }

  deliver(handler: string, event: unknown): Promise<void> {
    this.#worker ??= this.#start();
    const id = this.#nextId++;
    return new Promise<void>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker?.postMessage({ id, handler, event, credentials: this.credentialsFor(handler) });
    });
  }

  async stop(): Promise<void> {
    await this.#worker?.terminate();
    this.#worker = undefined;
  }
}
