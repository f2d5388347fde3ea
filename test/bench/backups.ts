import { mkdtemp, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { dumpTable } from '#shared/backups/dump-table';
import type { TableSummary } from '#shared/backups/ndjson-parts';
import { restoreTable } from '#shared/backups/restore-table';
import { type TableDdl, tableDdl } from '#shared/backups/table-ddl';
import { storeParts, type TableParts } from '#shared/backups/table-parts';
import type { SqlParams, SqlRow, SqlRunner } from '#shared/ports/sql';
import { createTempDatabase, type TempDatabase } from '../support/tenancy.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { round } from './stats.ts';
import { pg15Missing, startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.ts';

/**
 * Figure 9 (issue 17, "Measured"): backup and restore throughput of the backup engine
 * (shared/backups/) for one tenant-like table, against `pg_dump -Fc` / `pg_restore` of the same
 * table on the same server in the same run. The server is a throw-away PostgreSQL 15 (this
 * machine's pg_dump is 15 and refuses the local platform's 17: throwaway-postgres.ts); the engine
 * reaches it over a direct pg connection (PgSqlRunner), so the figure is the engine's own cost —
 * its keyset pages sized for the Data API, JSON rendering, sha256 and gzip — without the Data
 * API's HTTP in between.
 */

type Progress = (line: string) => void;

export interface BackupBenchOptions {
  /** Rows in the table: 1 000 000 in the full run (issue 17), fewer with --quick. */
  readonly rows: number;
}

const TABLE = 'bench_rows';
const TENANT_ID = 't_benchbackupsaaaaaaaa';

/** A tenant table as the rows routes make one (shared/data/tables.ts): uuid id, timestamps, then its columns. */
const CREATE_TABLE = `create table ${TABLE} (
  id uuid primary key default gen_random_uuid(),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  label text not null,
  amount numeric(12,2),
  quantity integer,
  active boolean,
  placed_at timestamptz,
  meta jsonb
)`;

/* ~380 bytes of NDJSON a row: a label, an exact amount, a small object with a short text. */
const SEED_ROWS = `insert into ${TABLE} (label, amount, quantity, active, placed_at, meta)
  select 'item ' || g, (g % 100000) / 100.0 + 0.05, g % 17, g % 3 = 0,
         timestamptz '2026-01-01 00:00:00+00' + g * interval '1.000001 second',
         jsonb_build_object('n', g, 'tags', jsonb_build_array('red', 'large'), 'note', repeat('x', 40 + g % 20))
    from generate_series(:from::int, :to::int) g`;

const SEED_CHUNK = 100_000;

/**
 * The runner, printing how far a long dump or load has come: the engine has no progress hook
 * (its callers are workflow steps), so the pages it reads and the batches it inserts are counted
 * here. A page's rows are its chunks numbered 0 (dump-table.ts); a batch is ≤ 1 000 rows.
 */
function watched(runner: SqlRunner, label: string, every: number, progress: Progress): SqlRunner {
  const count = { read: 0, loaded: 0, batches: 0 };
  const next = { read: every, loaded: every };
  const wrap = (inner: SqlRunner): SqlRunner => ({
    async query<T extends SqlRow = SqlRow>(sql: string, params?: SqlParams): Promise<T[]> {
      const result = await inner.query<T>(sql, params);
      if (sql.includes('row_to_json')) {
        count.read += result.filter((r) => r.i === 0).length;
        if (count.read >= next.read) {
          progress(`${label}: ${count.read.toLocaleString('en')} rows read`);
          next.read += every;
        }
      }
      return result;
    },
    async execute(sql: string, params?: SqlParams): Promise<number> {
      const changed = await inner.execute(sql, params);
      if (sql.trimStart().startsWith('insert into')) {
        count.batches += 1;
        count.loaded += changed;
        if (count.loaded >= next.loaded) {
          progress(`${label}: ${count.loaded.toLocaleString('en')} rows loaded (${count.batches} inserts)`);
          next.loaded += every;
        }
      }
      return changed;
    },
    transaction: (work) => inner.transaction((tx) => work(wrap(tx))),
  });
  return wrap(runner);
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000 };
}

const MB = 1_000_000;
const mb = (bytes: number) => round(bytes / MB, 1);

interface Measured {
  readonly rows: number;
  readonly tableBytes: number;
  readonly backup: { seconds: number; dump: TableSummary; gzipBytes: number };
  readonly restore: { seconds: number };
  readonly pgDump: { seconds: number; fileBytes: number };
  readonly pgRestore: { seconds: number };
  /** The engine's verification alone: the same re-dump, without gzip, of pg_restore's copy. */
  readonly verify: { seconds: number; sameSha256: boolean };
}

/** Makes the table with `owner` (its owner) and fills it with `filler` (any role that may insert). */
async function seed(owner: SqlRunner, filler: SqlRunner, rows: number, progress: Progress): Promise<void> {
  await owner.execute(CREATE_TABLE);
  const source = filler;
  for (let from = 1; from <= rows; from += SEED_CHUNK) {
    const to = Math.min(rows, from + SEED_CHUNK - 1);
    await source.execute(SEED_ROWS, { from, to });
    progress(`backups: seeded ${to.toLocaleString('en')} of ${rows.toLocaleString('en')} rows`);
  }
  // Sets hint bits and statistics now, so neither side's first read pays for them.
  await source.execute(`vacuum (analyze) ${TABLE}`);
}

/**
 * The engine's two steps as a backup and a restore workflow run them, timed, with progress:
 * the DDL and the dump into the store; the restore (create, load, verify) into an empty database.
 */
function engineSteps(store: FileBackupStore, every: number, progress: Progress) {
  return {
    async backup(source: SqlRunner, prefix: string, label = 'engine backup') {
      progress(`backups: ${label} (tableDdl + dumpTable into a FileBackupStore)`);
      const at: TableParts = { store, tenantId: TENANT_ID, prefix };
      const { result, seconds } = await timed(async () => {
        const ddl = (await tableDdl(source, TABLE)) as TableDdl;
        const watching = watched(source, `backups: ${label}`, every, progress);
        return { ddl, dump: await dumpTable(watching, ddl, storeParts(at, TABLE)) };
      });
      const { dump } = result;
      const gzip = dump.parts.reduce((sum, part) => sum + part.compressedBytes, 0);
      progress(
        `backups: ${label} ${round(seconds, 1)} s: ${dump.rows} rows, ${mb(dump.bytes)} MB NDJSON → ${mb(gzip)} MB gzip in ${dump.parts.length} parts`,
      );
      return { ...result, at, seconds };
    },
    async restore(
      target: SqlRunner,
      ddl: TableDdl,
      dump: TableSummary,
      at: TableParts,
      label = 'engine restore',
    ) {
      progress(`backups: ${label} (one transaction: create, load, verify by re-dumping)`);
      const watching = watched(target, `backups: ${label}`, every, progress);
      const { seconds } = await timed(() => restoreTable(watching, ddl, dump, at));
      progress(`backups: ${label} ${round(seconds, 1)} s`);
      return { seconds };
    },
  };
}

async function measureOn(
  server: ThrowawayPostgres,
  work: string,
  rows: number,
  progress: Progress,
): Promise<Measured> {
  const admin = new PgSqlRunner({ ...server.connection('postgres'), max: 1 });
  const runners: PgSqlRunner[] = [admin];
  const open = (database: string) => {
    const runner = new PgSqlRunner({ ...server.connection(database), max: 2 });
    runners.push(runner);
    return runner;
  };
  const folder = await mkdtemp(path.join(work, 'backups-'));
  try {
    for (const database of ['bench_source', 'bench_restore_ours', 'bench_restore_pg']) {
      await admin.execute(`create database ${database}`);
    }
    const source = open('bench_source');
    await seed(source, source, rows, progress);
    const [size] = await source.query<{ bytes: string }>(
      `select pg_total_relation_size('${TABLE}')::text as bytes`,
    );
    const tableBytes = Number(size?.bytes);
    const every = Math.max(50_000, Math.round(rows / 10));

    // a) the engine: DDL from the catalog, then the dump into a file store (gzip parts).
    const store = new FileBackupStore(path.join(folder, 'store'));
    const engine = engineSteps(store, every, progress);
    const { ddl, dump, at, ...backup } = await engine.backup(source, 'b1/db');
    const gzipBytes = dump.parts.reduce((sum, part) => sum + part.compressedBytes, 0);

    // b) pg_dump of the same table, custom format (compressed: gzip, as ours).
    const dumpFile = path.join(folder, 'bench.dump');
    progress('backups: pg_dump -Fc');
    const pgDump = await timed(() =>
      server.tool('pg_dump', ['-Fc', '-t', TABLE, '-f', dumpFile, 'bench_source']),
    );
    const fileBytes = (await stat(dumpFile)).size;
    progress(`backups: pg_dump ${round(pgDump.seconds, 1)} s, ${mb(fileBytes)} MB file`);

    const restore = await engine.restore(open('bench_restore_ours'), ddl, dump, at);

    progress('backups: pg_restore --single-transaction');
    const pgRestore = await timed(() =>
      server.tool('pg_restore', ['--single-transaction', '--no-owner', '-d', 'bench_restore_pg', dumpFile]),
    );
    progress(`backups: pg_restore ${round(pgRestore.seconds, 1)} s`);

    // What the engine's restore adds that pg_restore does not do: the re-dump that proves the
    // rows. Run on pg_restore's copy, it also shows both restores hold the same rows.
    const verify = await timed(() =>
      dumpTable(open('bench_restore_pg'), ddl, async () => {}, { compress: false }),
    );
    progress(
      `backups: the engine's re-dump alone (no gzip) of pg_restore's copy ${round(verify.seconds, 1)} s`,
    );
    return {
      rows: dump.rows,
      tableBytes,
      backup: { seconds: backup.seconds, dump, gzipBytes },
      restore: { seconds: restore.seconds },
      pgDump: { seconds: pgDump.seconds, fileBytes },
      pgRestore: { seconds: pgRestore.seconds },
      verify: {
        seconds: verify.seconds,
        sameSha256: verify.result.sha256 === dump.sha256 && verify.result.rows === dump.rows,
      },
    };
  } finally {
    for (const runner of runners) await runner.close();
    await rm(folder, { recursive: true, force: true });
  }
}

/** Within 5× of pg_dump: see the note of the figure for why that is the goal. */
const GOAL_RATIO = 0.2;

function figuresOf(m: Measured): { figures: Figure[]; notes: string[] } {
  const group = '9. Backups';
  const rate = (seconds: number) => m.rows / seconds;
  const rows = m.rows.toLocaleString('en');
  const throughput = (
    name: string,
    ours: number,
    theirs: number,
    baseline: string,
    note: string,
  ): Figure => ({
    group,
    name,
    value: round(rate(ours), 0),
    unit: 'rows/s',
    baseline: { name: baseline, value: round(rate(theirs), 0) },
    ratio: round(theirs / ours, 3),
    budget: {
      text: 'ratio ≥ 0.2: within 5× of pg_dump/pg_restore (goal, not in the issue)',
      met: theirs / ours >= GOAL_RATIO,
    },
    note,
  });
  const megabytes = (name: string, ours: number, theirs: number, baseline: string): Figure => ({
    group,
    name,
    value: round(m.backup.dump.bytes / MB / ours, 1),
    unit: 'MB/s',
    baseline: { name: baseline, value: round(m.tableBytes / MB / theirs, 1) },
    note: `MB = 10^6 bytes. Ours: uncompressed NDJSON (${mb(m.backup.dump.bytes)} MB; ${mb(m.backup.gzipBytes)} MB as gzip parts). pg_dump/pg_restore: the table's pg_total_relation_size (heap + TOAST + primary key, ${mb(m.tableBytes)} MB; the -Fc file is ${mb(m.pgDump.fileBytes)} MB). Different measures of the same rows: compare rows/s.`,
  });
  return {
    figures: [
      throughput(
        `backup of a ${rows}-row table, engine over a direct pg connection`,
        m.backup.seconds,
        m.pgDump.seconds,
        'pg_dump -Fc -t of the same table',
        `one run; tableDdl + dumpTable into a FileBackupStore (${m.backup.dump.parts.length} gzip parts, sha256), ${round(m.backup.seconds, 1)} s vs ${round(m.pgDump.seconds, 1)} s`,
      ),
      throughput(
        `restore of the same ${rows} rows into a new database, with verification`,
        m.restore.seconds,
        m.pgRestore.seconds,
        'pg_restore --single-transaction of the -Fc file',
        `one run; one transaction: create, load in inserts of ≤ 1 000 rows, then a full re-dump checked against the backup's sha256 (that re-dump alone, run apart on pg_restore's copy: ${round(m.verify.seconds, 1)} s); pg_restore checks nothing. ${round(m.restore.seconds, 1)} s vs ${round(m.pgRestore.seconds, 1)} s`,
      ),
      megabytes(
        `backup throughput in MB/s (${rows} rows)`,
        m.backup.seconds,
        m.pgDump.seconds,
        'pg_dump -Fc',
      ),
      megabytes(
        `restore throughput in MB/s (${rows} rows)`,
        m.restore.seconds,
        m.pgRestore.seconds,
        'pg_restore',
      ),
    ],
    notes: [
      `Backups (issue 17): a tenant-like table (uuid key, two timestamptz, text, numeric(12,2), integer, boolean, ` +
        `timestamptz, jsonb; ${round(m.backup.dump.bytes / m.rows, 0)} bytes of NDJSON a row) on a throw-away ` +
        `PostgreSQL 15 (fsync off, as the local platform), because this machine's pg_dump/pg_restore are 15 and refuse ` +
        `the local platform's 17. The engine reaches it over a direct pg connection and keeps the limits it has for the ` +
        `Data API (pages of ≤ 1 000 rows and 300 kB, one statement each; inserts of ≤ 1 000 rows), renders each row ` +
        `with row_to_json, hashes and gzips it in Node; pg_dump streams the table with one COPY. The goal "within 5×" ` +
        `is ours, not the issue's: what a backup costs beyond a COPY is that per-page SQL and the JSON, and a restore ` +
        `also re-reads every row to prove it. One run of each, on a machine other sessions share. pg_restore's copy hashes to the engine's sha256: ` +
        `${m.verify.sameSha256 ? 'yes, the same rows' : 'NO (a bug: the rows differ)'}.`,
    ],
  };
}

/** Figure 9; skipped with a note where the PostgreSQL 15 binaries are missing. */
export async function measureBackups(
  work: string,
  options: BackupBenchOptions,
  progress: Progress,
): Promise<{ figures: Figure[]; notes: string[] }> {
  const missing = await pg15Missing();
  if (missing) {
    const note = `Backups (issue 17): skipped, ${missing}; the comparison needs pg_dump and a server of its version.`;
    progress(note);
    return { figures: [], notes: [note] };
  }
  progress(`backups: a ${options.rows.toLocaleString('en')}-row table on a throw-away PostgreSQL 15`);
  let server: ThrowawayPostgres;
  try {
    server = await startThrowawayPostgres();
  } catch (error) {
    const note = `Backups (issue 17): skipped, the PostgreSQL 15 server did not start (${error instanceof Error ? error.message : String(error)}).`;
    progress(note);
    return { figures: [], notes: [note] };
  }
  try {
    const measured = await measureOn(server, work, options.rows, progress);
    const result = figuresOf(measured);
    for (const figure of result.figures) {
      progress(
        `backups: ${figure.name}: ${figure.value} ${figure.unit} vs ${figure.baseline?.value} (${figure.ratio ?? '—'})`,
      );
    }
    return result;
  } finally {
    await server.stop();
  }
}

/**
 * Figure 9b: the same engine through the local platform's Data API stand-in, the path a workflow's
 * Lambda takes (one signed HTTP call per page and per insert, each with a secret lookup, an IAM
 * decision and JSON records), against the engine over a direct pg connection to the same database
 * of the same PostgreSQL 17 server, in the same run. What it shows is the Data API's cost; in AWS
 * the Data API's own work runs elsewhere, here on the same cores.
 */
export async function measureBackupsThroughDataApi(
  work: string,
  options: BackupBenchOptions,
  progress: Progress,
): Promise<Figure[]> {
  const rows = options.rows.toLocaleString('en');
  progress(`backups: through the Data API stand-in, ${rows} rows (booting a local platform)`);
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'backups-platform-')));
  const databases: TempDatabase[] = [];
  const direct: PgSqlRunner[] = [];
  const folder = await mkdtemp(path.join(work, 'backups-data-api-'));
  try {
    const info = platform.info;
    const database = async (prefix: string) => {
      const made = await createTempDatabase(info, prefix);
      databases.push(made);
      const pg = new PgSqlRunner({ ...info.postgres, database: made.name, max: 2 });
      direct.push(pg);
      return { dataApi: made.runner, pg };
    };
    const source = await database('bench_backup_src');
    // The master owns the table (as RDS's master does a tenant's); the rows go in straight.
    await seed(source.dataApi, source.pg, options.rows, progress);
    const engine = engineSteps(
      new FileBackupStore(path.join(folder, 'store')),
      Math.max(20_000, options.rows / 5),
      progress,
    );
    const overPg = await engine.backup(source.pg, 'b1/pg', 'direct pg backup');
    const overApi = await engine.backup(source.dataApi, 'b1/api', 'Data API backup');
    const restoredPg = await engine.restore(
      (await database('bench_backup_pg')).pg,
      overPg.ddl,
      overPg.dump,
      overPg.at,
      'direct pg restore',
    );
    const restoredApi = await engine.restore(
      (await database('bench_backup_api')).dataApi,
      overApi.ddl,
      overApi.dump,
      overApi.at,
      'Data API restore',
    );
    if (overApi.dump.sha256 !== overPg.dump.sha256) throw new Error('the two backups differ');
    const figure = (name: string, api: number, pg: number, note: string): Figure => ({
      group: '9. Backups',
      name,
      value: round(options.rows / api, 0),
      unit: 'rows/s',
      baseline: {
        name: 'the same engine over a direct pg connection, same server',
        value: round(options.rows / pg, 0),
      },
      ratio: round(pg / api, 3),
      note,
    });
    return [
      figure(
        `backup of ${rows} rows through the Data API stand-in (a Lambda's path)`,
        overApi.seconds,
        overPg.seconds,
        `one run each, the local platform's PostgreSQL 17; ${round(overApi.seconds, 1)} s vs ${round(overPg.seconds, 1)} s; no budget set`,
      ),
      figure(
        `restore of ${rows} rows through the Data API stand-in, with verification`,
        restoredApi.seconds,
        restoredPg.seconds,
        `one run each; ${round(restoredApi.seconds, 1)} s vs ${round(restoredPg.seconds, 1)} s; no budget set`,
      ),
    ];
  } finally {
    for (const pg of direct) await pg.close();
    for (const made of databases) await made.drop();
    await platform.stop();
    await rm(folder, { recursive: true, force: true });
  }
}
