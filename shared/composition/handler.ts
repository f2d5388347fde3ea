import { awsServices } from '#shared/composition/aws-services';
import type { Services } from '#shared/composition/services';

/**
 * A function's handler and the way to run it on other services. Lambda calls the handler itself,
 * which composes the function's services from its configuration (`process.env`, validated) on
 * its first invocation and keeps them for the instance's life; the local platform and the tests
 * call `handler.with(services)` with services they built from the engines they started.
 */
export type Composed<F extends (...args: never[]) => Promise<unknown>> = F & {
  /** The same handler on these services: nothing is read from the environment. */
  readonly with: (services: Services) => F;
};

/** Makes a function's handler from the handler `bind` makes on a set of services. */
export function composed<F extends (...args: never[]) => Promise<unknown>>(
  bind: (services: Services) => F,
): Composed<F> {
  let bound: F | undefined;
  const lambda = ((...args: Parameters<F>) => {
    bound ??= bind(awsServices(process.env));
    return bound(...args);
  }) as F;
  return Object.assign(lambda, { with: bind });
}

/**
 * A handler that is none of the typed kinds (HTTP route, event consumer, workflow step): a
 * Cognito trigger, a scheduled job, a custom resource. `work` gets the event and the services.
 */
export function functionHandler<E, R>(work: (event: E, services: Services) => Promise<R>) {
  return composed((services: Services) => (event: E) => work(event, services));
}
