import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { DATABASE_ID_PATTERN, derivedUpgradeId, TENANT_ID_PATTERN } from '#shared/control/ids';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import { tableMetadata } from '#shared/data/catalog';
import { tenantSqlOf } from '#shared/data/tenant-database';
import { NotFound } from '#shared/errors';
import { ModuleUpgradeFinished } from '#shared/events/events';
import { latestVersion, MODULE_ID_PATTERN, moduleById } from '#shared/modules/catalog';
import { type ModuleDeps, migrationContext } from '#shared/modules/modules';
import { migrateModule } from '#shared/modules/schema';
import { outgoing } from '#shared/ports/event-publisher';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import type { SqlRunner } from '#shared/ports/sql';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { startWorkflow } from '#shared/workflows/attempts';

/**
 * Module upgrades: every tenant database that has a module enabled below its latest version is
 * brought up to it by the `upgradeModule` operation of the provisioning workflow, in waves. Wave 0
 * is one database (a canary), then waves of `waveSize`, one wave after another, the databases of a
 * wave in parallel. Each database's outcome is recorded in the control database
 * (`module_upgrade_targets`), by the step on success and by the state machine's Catch on failure,
 * so a failure in one tenant never stops the others and is reported by the status route.
 */

export const UPGRADE_ID_PATTERN = /^u_[a-z2-7]{16}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
export const newUpgradeId = () => `u_${[...randomBytes(16)].map((b) => BASE32[b % 32]).join('')}`;

export const DEFAULT_WAVE_SIZE = 10;
export const upgradeExecutionName = (upgradeId: string) => `upgrade-${upgradeId}`;

export interface UpgradeDeps extends ModuleDeps {
  readonly control: SqlRunner;
  readonly workflows: WorkflowStarter;
}

export const upgradeStepInput = z.object({
  upgradeId: z.string().regex(UPGRADE_ID_PATTERN),
  moduleId: z.string().regex(MODULE_ID_PATTERN),
});
export const waveStepInput = upgradeStepInput.extend({ wave: z.number().int().min(0) });
export const targetStepInput = upgradeStepInput.extend({
  toVersion: z.number().int().min(1),
  tenantId: z.string().regex(TENANT_ID_PATTERN),
  databaseId: z.string().regex(DATABASE_ID_PATTERN),
});
export const failedTargetStepInput = targetStepInput.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type UpgradeTarget = z.infer<typeof targetStepInput>;

const UPGRADE_COLUMNS = `id, module_id as "moduleId", to_version as "toVersion", wave_size as "waveSize", status,
  created_by as "createdBy", created_at as "createdAt", finished_at as "finishedAt"`;

interface UpgradeRecord {
  id: string;
  moduleId: string;
  toVersion: number;
  waveSize: number;
  status: 'running' | 'completed';
  createdBy: string;
  createdAt: string;
  finishedAt: string | null;
}

/**
 * Starts an upgrade of `moduleId` to its latest version (route: platform admins). One started
 * under an Idempotency-Key is named after its token: a re-run after an attempt that may have
 * recorded it answers that upgrade and makes sure its workflow runs.
 */
export async function startModuleUpgrade(
  deps: UpgradeDeps,
  moduleId: string,
  waveSize: number,
  createdBy: string,
  attempt: IdempotentAttempt | null = null,
) {
  const module = moduleById(moduleId);
  if (!module) throw new NotFound('Module not found');
  const id = attempt ? derivedUpgradeId(attempt.token) : newUpgradeId();
  const [earlier] = attempt?.rerun
    ? await deps.control.query<UpgradeRecord & Record<string, unknown>>(
        `select ${UPGRADE_COLUMNS} from module_upgrades where id = :id`,
        { id },
      )
    : [];
  const [record] =
    earlier === undefined
      ? await deps.control.query<UpgradeRecord & Record<string, unknown>>(
          `insert into module_upgrades (id, module_id, to_version, wave_size, status, created_by)
           values (:id, :moduleId, :toVersion, :waveSize, 'running', :createdBy) returning ${UPGRADE_COLUMNS}`,
          { id, moduleId, toVersion: latestVersion(module), waveSize, createdBy },
        )
      : [earlier];
  if (record?.status === 'running') {
    await startWorkflow(deps.workflows, upgradeExecutionName(id), {
      operation: 'upgradeModule',
      upgradeId: id,
      moduleId,
    });
  }
  return record as UpgradeRecord;
}

async function upgradeOf(control: SqlRunner, upgradeId: string): Promise<UpgradeRecord> {
  const [record] = await control.query<UpgradeRecord & Record<string, unknown>>(
    `select ${UPGRADE_COLUMNS} from module_upgrades where id = :upgradeId`,
    { upgradeId },
  );
  if (!record) throw new NotFound('Upgrade not found');
  return record;
}

/**
 * Step: picks the databases to upgrade (enabled, active, below the target version), once per
 * upgrade, and numbers their waves. Returns the wave numbers, the Map state's items.
 */
export async function planModuleUpgrade(deps: UpgradeDeps, upgradeId: string) {
  const upgrade = await upgradeOf(deps.control, upgradeId);
  await deps.control.execute(
    `insert into module_upgrade_targets (upgrade_id, database_id, tenant_id, wave, from_version, status)
     select :upgradeId, ranked.database_id, ranked.tenant_id,
            case when ranked.n = 0 then 0 else 1 + (ranked.n - 1) / :waveSize end, ranked.version, 'pending'
       from (select dm.database_id, dm.tenant_id, dm.version,
                    (row_number() over (order by dm.tenant_id, dm.database_id) - 1)::int as n
               from database_modules dm
               join tenant_databases d on d.id = dm.database_id and d.status = 'active'
               join tenants t on t.id = dm.tenant_id and t.status = 'active'
              where dm.module_id = :moduleId and dm.enabled and dm.version < :toVersion) ranked
      where not exists (select 1 from module_upgrade_targets where upgrade_id = :upgradeId)`,
    { upgradeId, waveSize: upgrade.waveSize, moduleId: upgrade.moduleId, toVersion: upgrade.toVersion },
  );
  const waves = await deps.control.query<{ wave: number }>(
    'select distinct wave from module_upgrade_targets where upgrade_id = :upgradeId order by wave',
    { upgradeId },
  );
  return { toVersion: upgrade.toVersion, waves: waves.map((w) => w.wave) };
}

/** Step: the still pending databases of one wave, each a complete input for the per-database step. */
export async function loadUpgradeWave(deps: UpgradeDeps, upgradeId: string, wave: number) {
  const upgrade = await upgradeOf(deps.control, upgradeId);
  const rows = await deps.control.query<{ tenantId: string; databaseId: string }>(
    `select tenant_id as "tenantId", database_id as "databaseId" from module_upgrade_targets
      where upgrade_id = :upgradeId and wave = :wave and status = 'pending' order by database_id`,
    { upgradeId, wave },
  );
  return {
    targets: rows.map((row) => ({
      upgradeId,
      moduleId: upgrade.moduleId,
      toVersion: upgrade.toVersion,
      tenantId: row.tenantId,
      databaseId: row.databaseId,
    })),
  };
}

export class UpgradeTargetUnavailable extends Error {
  override readonly name = 'UpgradeTargetUnavailable';
}

async function markTarget(
  control: SqlRunner,
  target: UpgradeTarget,
  status: 'upgraded' | 'failed',
  error: string | null,
) {
  await control.execute(
    `update module_upgrade_targets set status = :status, error = :error, finished_at = now()
      where upgrade_id = :upgradeId and database_id = :databaseId`,
    { status, error, upgradeId: target.upgradeId, databaseId: target.databaseId },
  );
}

/** Step: one database, as its tenant's role; idempotent (a database already at the version is done). */
export async function upgradeModuleDatabase(deps: UpgradeDeps, target: UpgradeTarget) {
  const module = moduleById(target.moduleId);
  if (!module) throw new UpgradeTargetUnavailable(`Unknown module ${target.moduleId}`);
  const record = await deps.databases.get(target.databaseId);
  if (
    !record ||
    record.tenantId !== target.tenantId ||
    record.status !== 'active' ||
    !record.clusterId ||
    !record.secretArn
  ) {
    throw new UpgradeTargetUnavailable('The database is no longer active');
  }
  const tenant = await deps.tenants.get(target.tenantId);
  if (!tenant) throw new UpgradeTargetUnavailable('The tenant no longer exists');
  const sql = await tenantSqlOf(deps.clusters, {
    ...record,
    clusterId: record.clusterId,
    secretArn: record.secretArn,
  });
  const result = await migrateModule(sql, module, target.toVersion, migrationContext(tenant.settings));
  tableMetadata.invalidate(target.databaseId);
  await deps.modules.setVersion(target.databaseId, module.id, result.toVersion);
  await markTarget(deps.control, target, 'upgraded', null);
  return {
    databaseId: target.databaseId,
    status: 'upgraded',
    fromVersion: result.fromVersion,
    toVersion: result.toVersion,
  };
}

/** What a Catch hands over: Lambda puts `{errorMessage}` JSON in Cause; the local runner the message. */
function describeError(error: { Error?: string; Cause?: string } | undefined): string {
  let cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // plain text
  }
  return `${error?.Error ?? 'Error'}: ${cause}`.slice(0, 500);
}

/** Step (from the Catch inside the wave): records why this database was not upgraded. */
export async function recordUpgradeFailure(
  deps: UpgradeDeps,
  target: UpgradeTarget,
  error: { Error?: string; Cause?: string } | undefined,
) {
  const message = describeError(error);
  await markTarget(deps.control, target, 'failed', message);
  return { databaseId: target.databaseId, status: 'failed', error: message };
}

async function counts(control: SqlRunner, upgradeId: string) {
  const rows = await control.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from module_upgrade_targets where upgrade_id = :upgradeId group by status`,
    { upgradeId },
  );
  const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
  return { pending: of('pending'), upgraded: of('upgraded'), failed: of('failed') };
}

/** Step: marks the upgrade completed and announces the counts. */
export async function finishModuleUpgrade(deps: UpgradeDeps, upgradeId: string) {
  const upgrade = await upgradeOf(deps.control, upgradeId);
  await deps.control.execute(
    `update module_upgrades set status = 'completed', finished_at = coalesce(finished_at, now()) where id = :upgradeId`,
    { upgradeId },
  );
  const summary = await counts(deps.control, upgradeId);
  await deps.events.publish([
    outgoing(ModuleUpgradeFinished, {
      upgradeId,
      moduleId: upgrade.moduleId,
      toVersion: upgrade.toVersion,
      upgraded: summary.upgraded,
      failed: summary.failed,
      at: new Date().toISOString(),
    }),
  ]);
  return { upgradeId, ...summary };
}

const targetCursor = z.tuple([
  z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1),
  z.string().regex(DATABASE_ID_PATTERN),
]);

/** The upgrade's state and a page of its per-database outcomes, by wave. */
export async function describeModuleUpgrade(
  deps: Pick<UpgradeDeps, 'control'>,
  moduleId: string,
  upgradeId: string,
  limit: number,
  cursor: string | undefined,
) {
  const upgrade = await upgradeOf(deps.control, upgradeId);
  if (upgrade.moduleId !== moduleId) throw new NotFound('Upgrade not found');
  const after = decodeCursor(targetCursor, cursor);
  const rows = await deps.control.query<{
    tenantId: string;
    databaseId: string;
    wave: number;
    fromVersion: number;
    status: string;
    error: string | null;
    finishedAt: string | null;
  }>(
    `select tenant_id as "tenantId", database_id as "databaseId", wave, from_version as "fromVersion", status, error,
            finished_at as "finishedAt"
       from module_upgrade_targets
      where upgrade_id = :upgradeId
        and (:afterWave::int is null or (wave, database_id) > (:afterWave::int, :afterDatabase))
      order by wave, database_id
      limit :limit`,
    { upgradeId, afterWave: after?.[0] ?? null, afterDatabase: after?.[1] ?? '', limit: limit + 1 },
  );
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    ...upgrade,
    summary: await counts(deps.control, upgradeId),
    targets: items,
    nextCursor: rows.length > limit && last ? encodeCursor([last.wave, last.databaseId]) : null,
  };
}
