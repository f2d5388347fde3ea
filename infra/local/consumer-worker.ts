import { parentPort } from 'node:worker_threads';
import type { AwsClientConfig } from '#shared/adapters/aws-client-config';
import { installRecordServices, recordServicesFrom } from '#shared/composition/record-services';
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

parentPort?.on('message', async ({ id, handler, event, credentials }: Delivery) => {
  try {
    if (!credentialsOf.has(handler)) credentialsOf.set(handler, credentials);
    let loaded = modules.get(handler);
    if (!loaded) {
      loaded = import(`#functions/${handler}`) as Promise<ConsumerModule>;
      modules.set(handler, loaded);
    }
    const module = await loaded;
    await runAsFunction(handler, () => module.handler(event, {}));
    parentPort?.postMessage({ id, ok: true });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    parentPort?.postMessage({ id, ok: false, name: failure.name, message: failure.message });
  }
});
