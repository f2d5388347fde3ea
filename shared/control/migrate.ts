import type { Migration } from '#shared/control/migrations';
import type { SqlRunner } from '#shared/ports/sql';

/** A fixed key for the advisory lock that serialises concurrent migrators (deploys, local boots). */
const MIGRATION_LOCK = 7_262_901;

export interface MigrationResult {
  readonly applied: number[];
  readonly current: number;
}

/**
 * Applies the pending migrations, each in its own transaction under an advisory lock, so two
 * migrators at once apply each migration exactly once. Safe to run on every deploy and boot.
 */
export async function migrate(sql: SqlRunner, migrations: readonly Migration[]): Promise<MigrationResult> {
  // Under the lock too: two concurrent `create table if not exists` on a fresh database race in
  // PostgreSQL's catalog (duplicate key on pg_type) and one of them fails.
  await sql.transaction(async (tx) => {
    await tx.query('select 1 as locked from pg_advisory_xact_lock(:lock)', { lock: MIGRATION_LOCK });
    await tx.execute(
      `create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`,
    );
  });
  const applied: number[] = [];
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    const done = await sql.transaction(async (tx) => {
      await tx.query('select 1 as locked from pg_advisory_xact_lock(:lock)', { lock: MIGRATION_LOCK });
      const existing = await tx.query('select 1 from schema_migrations where version = :version', {
        version: migration.version,
      });
      if (existing.length > 0) return false;
      for (const statement of migration.statements) await tx.execute(statement);
      await tx.execute('insert into schema_migrations (version, name) values (:version, :name)', {
        version: migration.version,
        name: migration.name,
      });
      return true;
    });
    if (done) applied.push(migration.version);
  }
  const [row] = await sql.query<{ current: number | null }>(
    'select max(version) as current from schema_migrations',
  );
  return { applied, current: row?.current ?? 0 };
}
