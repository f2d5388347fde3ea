import { createAwsServices } from '#shared/composition/aws-services';
import type { Services } from '#shared/composition/services';

let installed: Services | undefined;

/** The local platform (or a test) installs its services before any handler runs. */
export function installServices(services: Services): void {
  installed = services;
}

/** The installed services, else (in Lambda) the AWS adapters, built on first use. */
export function services(): Services {
  installed ??= createAwsServices();
  return installed;
}
