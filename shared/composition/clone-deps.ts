import { sagaDeps } from '#shared/composition/saga-deps';
import type { Services } from '#shared/composition/services';
import type { CloneStepDeps } from '#shared/provisioning/clone-steps';

/** The clone steps' dependencies: the saga's, and the control database for backups and modules. */
export function cloneStepDeps(s: Services): CloneStepDeps {
  const deps = sagaDeps(s);
  return Object.defineProperty(deps, 'control', { get: () => s.control, enumerable: true }) as CloneStepDeps;
}
