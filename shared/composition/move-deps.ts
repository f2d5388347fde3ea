import { sagaDeps } from '#shared/composition/saga-deps';
import type { Services } from '#shared/composition/services';
import type { MoveStepDeps } from '#shared/provisioning/move-steps';

/** The move steps' dependencies: the saga's, the control database and the backup store, each made on first use. */
export function moveStepDeps(s: Services): MoveStepDeps {
  const deps = sagaDeps(s);
  for (const [key, get] of [
    ['control', () => s.control],
    ['backupStore', () => s.backupStore],
  ] as const) {
    Object.defineProperty(deps, key, { get, enumerable: true });
  }
  return deps as MoveStepDeps;
}
