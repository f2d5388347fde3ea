import { type BackupRecord, BackupRepository, type BackupTrigger } from '#shared/control/backup-repository';
import type { DatabaseRegistry } from '#shared/control/database-registry';
import { derivedBackupId, newBackupId } from '#shared/control/ids';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { Conflict, NotFound } from '#shared/errors';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { currentWorkflow, startWorkflow, workflowView } from '#shared/workflows/attempts';
import type { ProvisioningInput } from '#shared/workflows/provisioning';

export interface BackupDeps {
  /** The control database (the application role). */
  readonly control: SqlRunner;
  readonly tenants: TenantRepository;
  readonly databases: DatabaseRegistry;
  readonly workflows: WorkflowStarter;
}

/** A backup's workflow is named after it: `backup-<backupId>`. */
export const backupExecutionName = (backupId: string) => `backup-${backupId}`;

export const toBackupView = (backup: BackupRecord) => ({
  id: backup.id,
  status: backup.status,
  trigger: backup.trigger,
  startedAt: backup.startedAt,
  completedAt: backup.completedAt,
  ...(backup.reason === null ? {} : { reason: backup.reason }),
  expiresAt: backup.expiresAt,
  bytes: backup.bytes,
  manifest: backup.manifest,
});

/** The tenant's backups, newest first (deleted ones are not listed). */
export async function listBackups(
  deps: Pick<BackupDeps, 'control'>,
  tenantId: string,
  limit: number,
  cursor: string | undefined,
) {
  const page = await new BackupRepository(deps.control).list(tenantId, limit, cursor);
  return { ...page, items: page.items.map(toBackupView) };
}

/**
 * One of the tenant's backups, with its workflow (the current attempt and its steps, as
 * `GET …/provisioning` shows provisioning). Another tenant's backup answers 404 like an unknown one.
 */
export async function describeBackup(
  deps: Pick<BackupDeps, 'control' | 'workflows'>,
  tenantId: string,
  backupId: string,
) {
  const backup = await new BackupRepository(deps.control).ownedBy(tenantId, backupId);
  const execution = await currentWorkflow(deps.workflows, backupExecutionName(backupId));
  return { ...toBackupView(backup), workflow: workflowView(execution) };
}

/**
 * Records a running backup of the tenant and starts its workflow. The tenant must be active, and
 * so must every database asked for (all of them when `databaseIds` is null); an unknown database,
 * or another tenant's, is 404. Under an Idempotency-Key the backup is named after the token: a
 * re-run answers the backup the first attempt recorded and starts its workflow if it may not have
 * (the execution's name makes a second start of a running one a no-op).
 */
export async function startBackup(
  deps: BackupDeps,
  tenantId: string,
  input: {
    readonly databaseIds: readonly string[] | null;
    readonly trigger: BackupTrigger;
    readonly requestedBy: string | null;
  },
  attempt: IdempotentAttempt | null = null,
): Promise<BackupRecord> {
  const backups = new BackupRepository(deps.control);
  const backupId = attempt ? derivedBackupId(attempt.token) : newBackupId();
  const earlier = attempt?.rerun ? await backups.get(backupId) : null;
  if (earlier && earlier.tenantId === tenantId) {
    if (earlier.status === 'running') await startBackupWorkflow(deps.workflows, tenantId, backupId);
    const { deletedAt: _deletedAt, ...backup } = earlier;
    return backup;
  }
  const tenant = await deps.tenants.get(tenantId);
  if (tenant?.status !== 'active') throw new Conflict('The tenant is not active');
  const databases = await deps.databases.ofTenant(tenantId);
  const wanted = input.databaseIds ?? databases.map((db) => db.id);
  for (const databaseId of wanted) {
    const record = databases.find((db) => db.id === databaseId);
    if (!record) throw new NotFound('Database not found', { databaseId });
    if (record.status !== 'active') {
      throw new Conflict('A database is not active', { databaseId, databaseStatus: record.status });
    }
  }
  if (wanted.length === 0) throw new Conflict('The tenant has no database to back up');
  const backup = await backups.create({
    id: backupId,
    tenantId,
    trigger: input.trigger,
    databaseIds: input.databaseIds,
    requestedBy: input.requestedBy,
  });
  try {
    await startBackupWorkflow(deps.workflows, tenantId, backupId);
  } catch (error) {
    // Not left running: it would hold the tenant's one running backup for ever. A retry under the
    // same Idempotency-Key finds it failed and answers it; without one, the next request starts anew.
    await backups.fail(backupId, 'The backup workflow could not be started');
    throw error;
  }
  return backup;
}

const startBackupWorkflow = (workflows: WorkflowStarter, tenantId: string, backupId: string) =>
  startWorkflow(workflows, backupExecutionName(backupId), {
    operation: 'backup',
    tenantId,
    backupId,
  } satisfies ProvisioningInput);
