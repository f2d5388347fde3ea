import * as z from 'zod';
import {
  BACKUP_ID_PATTERN,
  DATABASE_ID_PATTERN,
  MOVE_ID_PATTERN,
  TENANT_ID_PATTERN,
} from '#shared/control/ids';

export const databaseStepInput = z.object({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  databaseId: z.string().regex(DATABASE_ID_PATTERN),
});

/** A provisioning that restores a backup into the new database (docs/backups.md, "Restore"). */
const restoreRequest = z.object({
  backupId: z.string().regex(BACKUP_ID_PATTERN),
  sourceDatabaseId: z.string().regex(DATABASE_ID_PATTERN),
});

export const restoreStepInput = databaseStepInput.extend({ restore: restoreRequest });

export const tenantStepInput = z.object({ tenantId: z.string().regex(TENANT_ID_PATTERN) });

/** A Catch's error output (`{Error, Cause}`), kept beside the state's input by `ResultPath`. */
export const caughtError = z
  .object({ Error: z.string().optional(), Cause: z.string().optional() })
  .optional();

export const compensationInput = databaseStepInput.extend({
  error: caughtError,
  restore: restoreRequest.optional(),
});

export const provisioningFailureInput = compensationInput.extend({ compensationError: caughtError });

/**
 * The `statusReason` of a failed provisioning: the error names only. A `Cause` can hold SQL or
 * names, and the reason is shown to the tenant's members.
 */
export function provisioningFailureReason(
  error: z.infer<typeof caughtError>,
  compensationError?: z.infer<typeof caughtError>,
  restoring = false,
): string {
  const reason = `${error?.Error ?? 'Error'} during ${restoring ? 'restore' : 'provisioning'}`;
  return compensationError
    ? `${reason}; the cleanup failed too (${compensationError.Error ?? 'Error'})`
    : reason;
}

/** A clone step's input: the new tenant and the backup of the source it is made from. */
export const cloneStepInput = z.object({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  backupId: z.string().regex(BACKUP_ID_PATTERN),
});

export const cloneCompensationInput = cloneStepInput.extend({ error: caughtError });

/** ActivateDatabase: a clone's databases leave the tenant to the clone's last step (`activateTenant: false`). */
export const activationStepInput = databaseStepInput.extend({ activateTenant: z.boolean().optional() });

/** A move step's input: the tenant and its move (docs/isolation-modes.md, "Moves"). */
export const moveStepInput = z.object({
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  moveId: z.string().regex(MOVE_ID_PATTERN),
});

/** A move step that acts on one of the move's databases. */
export const moveDatabaseStepInput = moveStepInput.extend({
  databaseId: z.string().regex(DATABASE_ID_PATTERN),
});

export const moveCompensationInput = moveStepInput.extend({ error: caughtError });
