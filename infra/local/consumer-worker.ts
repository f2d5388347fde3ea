import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { installRecordServices, recordServicesFrom } from '#shared/composition/record-services';
import type { ConsumerReply } from './consumers.ts';
import { perFunction, runAsFunction } from './function-runtime.ts';

/*
 * The event consumers of the local platform, on a thread of their own: in AWS each consumer is a
 * Lambda function apart from the API's, so their work must not queue behind (or in front of) API
 * requests on one event loop. The thread gets a copy of the platform's environment when it starts.
 */

interface Delivery {
  readonly id: number;
  readonly handler: string;
  readonly event: unknown;
  /** The function's own credentials, which its clients sign with. */
  readonly credentials?: AwsClientConfig['credentials'];
}

const credentialsOf = new Map<string, AwsClientConfig['credentials']>();

// Each consumer function has its own record stores (and clients), as each is its own Lambda.
installRecordServices(
  perFunction((entry) => {
    const credentials = entry === undefined ? undefined : credentialsOf.get(entry);
    return recordServicesFrom(process.env, credentials ? { credentials } : {});
  }),
);

type ConsumerModule = { handler: (event: unknown, context: unknown) => Promise<unknown> };
const modules = new Map<string, Promise<ConsumerModule>>();

const reply = (message: ConsumerReply) => parentPort?.postMessage(message);

parentPort?.on('message', async ({ id, handler, event, credentials }: Delivery) => {
  // No module is no function: Lambda's Invoke would answer ResourceNotFoundException, and nothing
  // runs. A module that exists but fails to load is the function's own error (its init failed).
  const entry = import.meta.resolve(`#functions/${handler}`);
  if (!existsSync(fileURLToPath(entry))) {
    reply({ id, ok: false, missing: true });
    return;
  }
  try {
    if (!credentialsOf.has(handler)) credentialsOf.set(handler, credentials);
    let loaded = modules.get(handler);
    if (!loaded) {
      loaded = import(entry) as Promise<ConsumerModule>;
      modules.set(handler, loaded);
      // A failed init is tried again on the next invocation, as Lambda starts a new instance.
      loaded.catch(() => modules.delete(handler));
    }
    const module = await loaded;
    await runAsFunction(handler, () => module.handler(event, {}));
    reply({ id, ok: true });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    reply({
      id,
      ok: false,
      name: failure.name,
      message: failure.message,
      trace: (failure.stack ?? '').split('\n'),
    });
  }
});
