import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type { AwsClients } from '#shared/composition/aws-clients';
import { awsServices } from '#shared/composition/aws-services';
import type { Composed } from '#shared/composition/handler';
import type { ConsumerReply } from './consumers.ts';

/*
 * The event consumers of the local platform, on a thread of their own: in AWS each consumer is a
 * Lambda function apart from the API's, so their work must not queue behind (or in front of) API
 * requests on one event loop. Each delivery brings its function's environment and clients'
 * options; the function's module is bound to services composed from them on its first delivery.
 */

interface Delivery {
  readonly id: number;
  readonly handler: string;
  readonly event: unknown;
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The function's clients: region, the stand-ins' endpoints, its own credentials. */
  readonly clients: AwsClients;
}

type Invoke = (event: unknown, context: unknown) => Promise<unknown>;
type ConsumerModule = { handler: Composed<Invoke> };
// Each consumer function has its own services (and clients), as each is its own Lambda.
const functions = new Map<string, Promise<Invoke>>();

const reply = (message: ConsumerReply) => parentPort?.postMessage(message);

parentPort?.on('message', async ({ id, handler, event, environment, clients }: Delivery) => {
  // No module is no function: Lambda's Invoke would answer ResourceNotFoundException, and nothing
  // runs. A module that exists but fails to load is the function's own error (its init failed).
  const entry = import.meta.resolve(`#functions/${handler}`);
  if (!existsSync(fileURLToPath(entry))) {
    reply({ id, ok: false, missing: true });
    return;
  }
  try {
    let loaded = functions.get(handler);
    if (!loaded) {
      loaded = (import(entry) as Promise<ConsumerModule>).then((module) =>
        module.handler.with(awsServices(environment, clients)),
      );
      functions.set(handler, loaded);
      // A failed init is tried again on the next invocation, as Lambda starts a new instance.
      loaded.catch(() => functions.delete(handler));
    }
    const result = await (await loaded)(event, {});
    reply({ id, ok: true, result });
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
