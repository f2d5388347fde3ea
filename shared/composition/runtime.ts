import { createAwsServices } from '#shared/composition/aws-services';
import type { Services } from '#shared/composition/services';

let installed: Services | (() => Services) | undefined;

/**
 * The local platform (or a test) installs its services before any handler runs: one set, or a
 * function that answers the set of the function now running (the local platform runs every
 * function in one process, each with its own configuration and credentials, as each Lambda
 * function has its own).
 */
export function installServices(services: Services | (() => Services)): void {
  installed = services;
}

/** The installed services, else (in Lambda) the AWS adapters, built on first use. */
export function services(): Services {
  installed ??= createAwsServices();
  return typeof installed === 'function' ? installed() : installed;
}
