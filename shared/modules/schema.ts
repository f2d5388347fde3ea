import { moduleComment } from '#shared/data/catalog';
import { defaultSchema, defaultSql, literal, parseColumnType, typeSql } from '#shared/data/column-types';
import { quoted } from '#shared/data/identifiers';
import { SYSTEM_COLUMN_DDL } from '#shared/data/tables';
import type { MigrationStep, ModuleColumn, ModuleDefinition, ModuleIndex } from '#shared/modules/catalog';
import type { SqlRunner } from '#shared/ports/sql';

/**
 * Module migrations as SQL, rendered with the same rules as tenants' own tables (quoted
 * identifiers, typed defaults rendered as literals), and applied in one transaction per database
 * with the versions recorded in the database's own `tenantry_migrations`.
 */

export interface MigrationContext {
  /** The tenant's settings when the migration runs (the currency default comes from them). */
  readonly defaultCurrency: string;
}

function columnDdl(column: ModuleColumn, context: MigrationContext): string {
  const type = parseColumnType(column.type);
  if (!type) throw new Error(`module column ${column.name}: unknown type ${column.type}`);
  const parts = [quoted(column.name), typeSql(type)];
  if (column.nullable === false) parts.push('not null');
  if (column.unique) parts.push('unique');
  if (column.default) {
    const value = 'setting' in column.default ? context.defaultCurrency : column.default.value;
    parts.push(`default ${defaultSql(type, defaultSchema(type).parse(value))}`);
  }
  if (column.references) {
    parts.push(
      `references ${quoted(column.references.table)} ("id") on delete ${column.references.onDelete}`,
    );
  }
  return parts.join(' ');
}

const indexName = (table: string, index: ModuleIndex) =>
  `${table}_${index.columns.join('_')}_${index.unique ? 'key' : 'idx'}`.slice(0, 63);

function indexDdl(table: string, index: ModuleIndex): string {
  return `create ${index.unique ? 'unique ' : ''}index ${quoted(indexName(table, index))} on ${quoted(table)} (${index.columns.map(quoted).join(', ')})`;
}

/** The statements of one migration step, in order. */
export function stepStatements(
  module: ModuleDefinition,
  step: MigrationStep,
  context: MigrationContext,
): string[] {
  if ('createTable' in step) {
    const table = step.createTable;
    const columns = [...SYSTEM_COLUMN_DDL, ...table.columns.map((c) => columnDdl(c, context))];
    return [
      `create table ${quoted(table.name)} (${columns.join(', ')})`,
      `comment on table ${quoted(table.name)} is ${literal(moduleComment(module.id))}`,
      ...(table.indexes ?? []).map((index) => indexDdl(table.name, index)),
    ];
  }
  if ('addColumn' in step) {
    return [
      `alter table ${quoted(step.addColumn.table)} add column ${columnDdl(step.addColumn.column, context)}`,
    ];
  }
  const { table, ...index } = step.createIndex;
  return [indexDdl(table, index)];
}

/** The module's tables, most dependent first (the order to drop them in). */
export function tablesToDrop(module: ModuleDefinition): string[] {
  return module.migrations
    .flatMap((m) => m.steps)
    .flatMap((step) => ('createTable' in step ? [step.createTable.name] : []))
    .reverse();
}

/** The module's tables that exist in this database and carry its comment. */
export async function moduleTablesPresent(sql: SqlRunner, module: ModuleDefinition) {
  return sql.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind = 'r' and obj_description(c.oid, 'pg_class') = :comment`,
    { comment: moduleComment(module.id) },
  );
}

/** The versions of `moduleId` applied in this database. */
export async function appliedVersion(sql: SqlRunner, moduleId: string): Promise<number> {
  const [row] = await sql.query<{ version: number | null }>(
    'select max(version) as version from tenantry_migrations where module = :module',
    { module: moduleId },
  );
  return row?.version ?? 0;
}

/**
 * Brings the module in this database up to `toVersion`, in one transaction: every pending
 * migration's statements and its `tenantry_migrations` row, or nothing. A transaction-scoped
 * advisory lock serialises two runs for the same module; the second finds nothing to do.
 */
export async function migrateModule(
  sql: SqlRunner,
  module: ModuleDefinition,
  toVersion: number,
  context: MigrationContext,
): Promise<{ fromVersion: number; toVersion: number; applied: number[] }> {
  return sql.transaction(async (tx) => {
    await tx.query("select 1 as locked from pg_advisory_xact_lock(hashtext('tenantry:module:' || :module))", {
      module: module.id,
    });
    const fromVersion = await appliedVersion(tx, module.id);
    const pending = module.migrations
      .filter((m) => m.version > fromVersion && m.version <= toVersion)
      .sort((a, b) => a.version - b.version);
    for (const migration of pending) {
      for (const step of migration.steps) {
        for (const statement of stepStatements(module, step, context)) await tx.execute(statement);
      }
      await tx.execute('insert into tenantry_migrations (module, version) values (:module, :version)', {
        module: module.id,
        version: migration.version,
      });
    }
    return {
      fromVersion,
      toVersion: Math.max(fromVersion, ...pending.map((m) => m.version)),
      applied: pending.map((m) => m.version),
    };
  });
}

/** Drops the module's tables and forgets its versions, in one transaction. */
export async function dropModuleData(sql: SqlRunner, module: ModuleDefinition): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query("select 1 as locked from pg_advisory_xact_lock(hashtext('tenantry:module:' || :module))", {
      module: module.id,
    });
    // Only the module's own tables (marked by their comment): a tenant's table of the same name,
    // made while the module was disabled, is not the module's to drop.
    const owned = new Set((await moduleTablesPresent(tx, module)).map((t) => t.name));
    for (const table of tablesToDrop(module)) {
      if (owned.has(table)) await tx.execute(`drop table if exists ${quoted(table)}`);
    }
    await tx.execute('delete from tenantry_migrations where module = :module', { module: module.id });
  });
}
