import { createHash } from 'node:crypto';
import type { DatabaseBackup, TableBackup } from '#shared/backups/manifest';
import { MIGRATIONS_TABLE } from '#shared/backups/restore-database';
import { moduleOfComment } from '#shared/data/catalog';
import type { ClonePart } from '#shared/tenancy/clone';

/** The sha256 of no NDJSON at all: what an empty table's dump hashes to. */
const EMPTY_SHA256 = createHash('sha256').digest('hex');

const moduleOf = (table: TableBackup): string | null => {
  const comment = table.ddl.comment;
  // `comment on table … is 'tenantry:module=<id>'`: the marker is inside the statement's literal.
  return comment ? moduleOfComment(/'((?:[^']|'')*)'\s*;?\s*$/.exec(comment)?.[1] ?? null) : null;
};

/**
 * What a clone restores of one backed-up database, by what it includes (docs/backups.md, "Clone"):
 * - without `modules`, the modules' tables and the migrations table stay out (the baseline made the
 *   latter in the new database with its own row; the modules' rows would claim tables it lacks);
 * - without `data`, every other table comes empty: its structure, no rows (the migrations table
 *   keeps its rows: they are the modules' versions, configuration rather than data).
 * The tables kept are restored and verified as any restore: an emptied one against no rows.
 */
export function cloneView(database: DatabaseBackup, include: ReadonlySet<ClonePart>): DatabaseBackup {
  const tables = database.tables
    .filter((table) => {
      if (include.has('modules')) return true;
      return table.name !== MIGRATIONS_TABLE && moduleOf(table) === null;
    })
    .map((table) =>
      include.has('data') || table.name === MIGRATIONS_TABLE
        ? table
        : { ...table, rows: 0, bytes: 0, sha256: EMPTY_SHA256, parts: [] },
    );
  return { ...database, tables };
}
