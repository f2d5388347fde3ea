import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { MoveVerification } from '#shared/backups/move-copy';
import { tablesDeps } from '#shared/composition/module-deps';
import { MoveRepository } from '#shared/control/move-repository';
import { insertRow } from '#shared/data/rows';
import { createTable, createTableSchema } from '#shared/data/tables';
import { openTenantDatabase, tenantSqlOf } from '#shared/data/tenant-database';
import { isolationOfSchema } from '#shared/domain/isolation';
import { DatabaseMoving } from '#shared/errors';
import type { WorkflowExecution, WorkflowStep } from '#shared/ports/workflows';
import { changeIsolation, type MoveView, moveDatabase, moveExecutionName } from '#shared/tenancy/moves';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { MOVE_SOURCE_GRACE_SECONDS } from '#shared/workflows/move-states';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';
import { COLUMNS } from './clone.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { median, round } from './stats.ts';

/**
 * Figure 13 (issue 18, "Measured"): moving a tenant database of `rows` rows — to the other
 * cluster (silo → silo), to the pool (silo → pool) and back (pool → silo), and to the other
 * cluster again with the tenant writing during the copy, so that the sync copies the table again
 * under the freeze. The moves run in this process on the saga harness (test/support/saga-harness.ts:
 * the real definition and step handlers, through the Data API and Secrets Manager stand-ins of a
 * local platform of two clusters); each move's times come from its execution's steps:
 * - move time: the execution's start to its stop, less the caches' grace (MoveSourceGrace, a
 *   Wait of MOVE_SOURCE_GRACE_SECONDS in the real definition, 20 ms on the harness), which holds
 *   no lock and costs no work: it only delays the sources' drop;
 * - write freeze: FreezeMoveWrites entered to SwitchMove exited (row writes refused, 503
 *   database_moving), as a ratio of the move time;
 * - copy: the MoveCopyDatabases Map (the first copy, made while the tenant writes).
 * After each move the database's record, its row count and the move's verification are checked,
 * so that a broken move fails the benchmark rather than timing it.
 */

type Progress = (line: string) => void;

const SEED_ROWS = `insert into items (label, amount, quantity, placed_at, meta)
  select 'item ' || g, (g % 100000) / 100.0 + 0.05, g % 17,
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
         jsonb_build_object('n', g, 'tags', jsonb_build_array('red', 'large'))
    from generate_series(:from::int, :to::int) g`;

/** The writer's rows, told apart from the seeded ones (removed after each round). */
const WRITTEN_LABEL = 'written during the copy';

type Scenario = 'toCluster' | 'toPool' | 'toSilo' | 'withWrites';

interface MoveTimes {
  readonly moveMs: number;
  readonly freezeMs: number;
  readonly copyMs: number;
  readonly syncMs: number;
  readonly graceMs: number;
  readonly finishMs: number;
  /** Rows the writer inserted during the move (withWrites only). */
  readonly written: number;
}

interface BenchTenant {
  readonly tenantId: string;
  readonly databaseId: string;
}

const ms = (from: string, to: string | null | undefined) =>
  to ? new Date(to).getTime() - new Date(from).getTime() : Number.NaN;

/** A state's time: its first entry to its last exit (a Map's iterations, a retried task). */
function spanOf(steps: readonly WorkflowStep[], ...names: string[]): number {
  const visits = steps.filter((step) => names.includes(step.name));
  const entered = visits.map((step) => step.enteredAt).sort()[0];
  const exited = visits
    .map((step) => step.exitedAt ?? '')
    .sort()
    .at(-1);
  if (!entered || !exited) throw new Error(`the execution has no ${names.join(' or ')} step`);
  return ms(entered, exited);
}

function timesOf(execution: WorkflowExecution, written: number): MoveTimes {
  const { steps } = execution;
  const step = (name: string) => {
    const found = steps.find((s) => s.name === name);
    if (!found) throw new Error(`the execution has no ${name} step`);
    return found;
  };
  const graceMs = spanOf(steps, 'MoveSourceGrace');
  return {
    moveMs: ms(execution.startedAt, execution.stoppedAt) - graceMs,
    freezeMs: ms(step('FreezeMoveWrites').enteredAt, step('SwitchMove').exitedAt),
    copyMs: spanOf(steps, 'MoveCopyDatabases', 'MoveCopyDatabase'),
    syncMs: spanOf(steps, 'MoveSyncDatabases', 'MoveSyncDatabase'),
    graceMs,
    finishMs: spanOf(steps, 'FinishMove'),
    written,
  };
}

async function newBenchTenant(saga: SagaHarness, name: string, rows: number, progress: Progress) {
  const owner = { userId: randomUUID(), email: `bench-${randomUUID().slice(0, 8)}@example.com` };
  const tenant = await registerTenant(saga.services, owner, { name });
  const provisioned = await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
  if (provisioned?.status !== 'SUCCEEDED') throw new Error(`provisioning ended ${provisioned?.status}`);
  const [database] = (await saga.services.databases.ofTenant(tenant.id)).filter((d) => d.isPrimary);
  if (!database) throw new Error('the tenant has no primary database');
  const items = createTableSchema.parse({ name: 'items', columns: COLUMNS });
  await createTable(tablesDeps(saga.services), tenant.id, database.id, items);
  // One INSERT … SELECT of up to 25 000 rows at a time, as the tenant's own role.
  const { sql } = await openTenantDatabase(saga.services, tenant.id, database.id);
  for (let done = 0; done < rows; done += 25_000) {
    const to = Math.min(rows, done + 25_000);
    await sql.execute(SEED_ROWS, { from: done + 1, to });
    if (rows >= 50_000)
      progress(`move: seeded ${to.toLocaleString('en')} of ${rows.toLocaleString('en')} rows`);
  }
  return { tenantId: tenant.id, databaseId: database.id };
}

/** The row count of `items` where the database's record says it is now (read now, not cached). */
async function rowsNow(saga: SagaHarness, tenant: BenchTenant) {
  const record = await saga.services.databases.get(tenant.databaseId);
  if (!record?.clusterId || !record.secretArn) throw new Error('the database is not placed');
  const sql = await tenantSqlOf(saga.services.clusters, {
    ...record,
    clusterId: record.clusterId,
    secretArn: record.secretArn,
  });
  const [row] = await sql.query<{ n: number }>('select count(*)::int as n from items');
  return { record, rows: row?.n ?? 0, sql };
}

/**
 * A tenant writing one row at a time through the rows module, from the move's start until the
 * freeze refuses a write (503 database_moving): every write it counts was taken by the source.
 */
function startWriter(saga: SagaHarness, tenant: BenchTenant) {
  let written = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      try {
        await insertRow(saga.services, tenant.tenantId, tenant.databaseId, 'items', {
          label: `${WRITTEN_LABEL} ${written}`,
          amount: 1.25,
          quantity: -1,
        });
        written += 1;
      } catch (error) {
        if (error instanceof DatabaseMoving) return;
        throw error;
      }
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return written;
    },
  };
}

/** Starts a move, waits for it (printing where it is on a long one), checks it, and times it. */
async function timedMove(
  saga: SagaHarness,
  tenant: BenchTenant,
  expected: { readonly rows: number; readonly clusterId: string; readonly isolation: 'silo' | 'pool' },
  start: () => Promise<MoveView>,
  options: { readonly writes: boolean; readonly label: string },
  progress: Progress,
): Promise<MoveTimes> {
  const { moveId } = await start();
  const writer = options.writes ? startWriter(saga, tenant) : null;
  const name = moveExecutionName(moveId);
  const ticker = setInterval(() => {
    saga.workflows
      .describe(name)
      .then((now) => progress(`move: ${options.label} still running, in ${now?.steps.at(-1)?.name ?? '…'}`))
      .catch(() => {});
  }, 15_000);
  let execution: WorkflowExecution | null;
  let written = 0;
  try {
    execution = await saga.workflows.waitFor(name);
  } finally {
    clearInterval(ticker);
    written = (await writer?.stop()) ?? 0;
  }
  if (execution?.status !== 'SUCCEEDED') {
    throw new Error(`move ${options.label} ended ${execution?.status} (${execution?.error})`);
  }
  const [move] = await new MoveRepository(saga.services.control).ofMove(moveId);
  const verification = move?.verification as MoveVerification | null | undefined;
  const items = verification?.tables.find((table) => table.name === 'items');
  const now = await rowsNow(saga, tenant);
  const want = expected.rows + written;
  const problems = [
    move?.phase !== 'completed' && `the move is ${move?.phase}`,
    now.record.clusterId !== expected.clusterId && `the database is on ${now.record.clusterId}`,
    isolationOfSchema(now.record.schemaName) !== expected.isolation && 'the isolation is wrong',
    now.rows !== want && `items has ${now.rows} rows, not ${want}`,
    items?.rows !== want && `the verification counted ${items?.rows} rows of items, not ${want}`,
    options.writes && written === 0 && 'the writer wrote nothing during the copy',
    options.writes && !verification?.recopied.includes('items') && 'the sync did not copy items again',
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`move ${options.label}: ${problems.join('; ')}`);
  if (written > 0) {
    // Back to `rows` for the next round (the writer's rows carry their label).
    await now.sql.execute('delete from items where label like :label', { label: `${WRITTEN_LABEL}%` });
  }
  const times = timesOf(execution, written);
  progress(
    `move: ${options.label} in ${round(times.moveMs / 1000, 2)} s (copy ${round(times.copyMs / 1000, 2)} s, freeze ${round(times.freezeMs)} ms${written ? `, ${written} rows written meanwhile` : ''}); ${want.toLocaleString('en')} rows there`,
  );
  return times;
}

/** One round: to the other cluster, to the pool, back to silo, and home with writes; back where it began. */
async function moveRound(
  saga: SagaHarness,
  tenant: BenchTenant,
  rows: number,
  clusters: { readonly home: string; readonly other: string },
  progress: Progress,
): Promise<Record<Scenario, MoveTimes>> {
  const { tenantId, databaseId } = tenant;
  const move = (
    expected: { clusterId: string; isolation: 'silo' | 'pool' },
    start: () => Promise<MoveView>,
    label: string,
    writes = false,
  ) => timedMove(saga, tenant, { rows, ...expected }, start, { writes, label }, progress);
  const { home, other } = clusters;
  return {
    toCluster: await move(
      { clusterId: other, isolation: 'silo' },
      () => moveDatabase(saga.services, tenantId, databaseId, other),
      `silo → silo (${home} → ${other})`,
    ),
    toPool: await move(
      { clusterId: other, isolation: 'pool' },
      () => changeIsolation(saga.services, tenantId, 'pool'),
      'silo → pool',
    ),
    toSilo: await move(
      { clusterId: other, isolation: 'silo' },
      () => changeIsolation(saga.services, tenantId, 'silo'),
      'pool → silo',
    ),
    withWrites: await move(
      { clusterId: home, isolation: 'silo' },
      () => moveDatabase(saga.services, tenantId, databaseId, home),
      `silo → silo (${other} → ${home}) with writes during the copy`,
      true,
    ),
  };
}

const SCENARIOS: Record<Scenario, (c: { home: string; other: string }) => string> = {
  toCluster: ({ home, other }) => `silo → silo, ${home} → ${other}`,
  toPool: ({ other }) => `silo → pool (on ${other})`,
  toSilo: ({ other }) => `pool → silo (on ${other})`,
  withWrites: ({ home, other }) => `silo → silo, ${other} → ${home}, the tenant writing during the copy`,
};

function figuresOf(
  measured: readonly Record<Scenario, MoveTimes>[],
  rows: number,
  clusters: { home: string; other: string },
): Figure[] {
  const count = rows.toLocaleString('en');
  const runs = `${measured.length} run${measured.length === 1 ? '' : 's'}`;
  const freezeWithout = median(measured.map((m) => m.toCluster.freezeMs));
  return (Object.keys(SCENARIOS) as Scenario[]).flatMap((scenario) => {
    const of = (pick: (t: MoveTimes) => number) => median(measured.map((m) => pick(m[scenario])));
    const [move, freeze, copy, sync, finish] = [
      of((t) => t.moveMs),
      of((t) => t.freezeMs),
      of((t) => t.copyMs),
      of((t) => t.syncMs),
      of((t) => t.finishMs),
    ];
    const written = of((t) => t.written);
    const name = `${SCENARIOS[scenario](clusters)}, ${count} rows`;
    const writes =
      scenario === 'withWrites'
        ? `; ${round(written, 0)} rows written one at a time during the copy, items copied again under the freeze (${round(freeze / freezeWithout, 2)}× the freeze without writes)`
        : '';
    return [
      {
        group: '13. Move',
        name: `${name}: move time (execution start → stop, the source grace excluded)`,
        value: round(move / 1000, 2),
        unit: 's',
        baseline: { name: 'its first copy, the MoveCopyDatabases Map', value: round(copy / 1000, 2) },
        ratio: round(move / copy, 2),
        note: `median of ${runs}; finish (the source dropped, the role fitted) ${round(finish)} ms; ${round(rows / (move / 1000), 0)} rows/s end to end; no budget set`,
      },
      {
        group: '13. Move',
        name: `${name}: write freeze (FreezeMoveWrites entered → SwitchMove exited)`,
        value: round(freeze),
        unit: 'ms',
        baseline: { name: 'the move time', value: round(move) },
        ratio: round(freeze / move, 3),
        note: `median of ${runs}; of it the sync (MoveSyncDatabases: every table hashed on both sides, a changed one copied again and all hashed once more) ${round(sync)} ms${writes}; no budget set`,
      },
    ];
  });
}

export async function measureMoves(
  work: string,
  options: { readonly rows: number; readonly runs: number },
  progress: Progress,
): Promise<{ figures: Figure[]; notes: string[] }> {
  progress('move: booting a local platform of two clusters');
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'move-platform-')));
  const [first, second] = platform.info.clusters;
  let saga: SagaHarness | undefined;
  try {
    if (!first || !second) throw new Error('the platform runs one cluster; a move needs two');
    const clusters = { home: first.id, other: second.id };
    saga = await startSagaHarness(platform.info);
    // Warm-up: every step's module loaded and every path taken once, on a small tenant.
    const small = await newBenchTenant(saga, 'Move bench warm-up', 100, progress);
    await moveRound(saga, small, 100, clusters, () => {});
    progress(`move: warmed up; a tenant of ${options.rows.toLocaleString('en')} rows`);
    const tenant = await newBenchTenant(saga, 'Move bench', options.rows, progress);
    const measured: Record<Scenario, MoveTimes>[] = [];
    for (let i = 0; i < options.runs; i++) {
      progress(`move: round ${i + 1} of ${options.runs}`);
      measured.push(await moveRound(saga, tenant, options.rows, clusters, progress));
    }
    return {
      figures: figuresOf(measured, options.rows, clusters),
      notes: [
        'Moves (figure 13): run in the benchmark process on the saga harness (the real state machine and step ' +
          'handlers, as the master with the harness key, through the Data API and Secrets Manager stand-ins of a local ' +
          'platform of two clusters, each its own PostgreSQL server on the same two cores). The move time leaves out ' +
          `the caches' grace before the sources are dropped (MoveSourceGrace: ${MOVE_SOURCE_GRACE_SECONDS} s in the ` +
          'definition, 20 ms on the harness): it holds no lock and does no work, and the tenant is on its copy from ' +
          'the switch on; in AWS a move takes that much longer to complete. The freeze is the time row writes are ' +
          "refused at the database; a process still serving the source's record from its cache (at most " +
          'ACTIVE_DATABASE_TTL_MS, 5 s) answers 503 database_moving for up to that much longer.',
      ],
    };
  } finally {
    await saga?.close();
    await platform.stop();
  }
}
