import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TableInfo, TableMetadataCache } from '#shared/data/catalog';
import { defaultFromCatalog, defaultSql, parseColumnType, valueSchema } from '#shared/data/column-types';
import { identifierProblem, quoted } from '#shared/data/identifiers';
import { moduleById, moduleCatalog, tablesAt } from '#shared/modules/catalog';
import { stepStatements } from '#shared/modules/schema';

describe('identifiers', () => {
  it('accepts plain names and refuses patterns, reserved words, system prefixes and system columns', () => {
    expect(identifierProblem('orders_2024', 'table')).toBeNull();
    for (const name of [
      '',
      'Orders',
      '1x',
      'a-b',
      'a b',
      'é',
      'a'.repeat(64),
      'select',
      'user',
      'pg_x',
      'tenantry_x',
      'sql_x',
    ]) {
      expect(identifierProblem(name, 'table'), name).not.toBeNull();
    }
    for (const name of ['id', 'created_at', 'updated_at', 'ctid', 'xmin', 'oid']) {
      expect(identifierProblem(name, 'column'), name).not.toBeNull();
    }
    expect(identifierProblem('a'.repeat(63), 'column')).toBeNull();
  });

  it('never quotes an unchecked name', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        if (/^[a-z][a-z0-9_]{0,62}$/.test(name)) expect(quoted(name)).toBe(`"${name}"`);
        else expect(() => quoted(name)).toThrow();
      }),
    );
  });
});

describe('column types and values', () => {
  it('parses the supported types and refuses the rest', () => {
    expect(parseColumnType('numeric(12, 2)')).toEqual({ base: 'numeric', precision: 12, scale: 2 });
    for (const bad of [
      'varchar',
      'numeric(0,0)',
      'numeric(3,4)',
      'numeric(1001,0)',
      'int',
      'text[]',
      'TEXT',
    ]) {
      expect(parseColumnType(bad), bad).toBeNull();
    }
  });

  it('checks values at the edges of each type', () => {
    const ok = (type: string, value: unknown) =>
      valueSchema(parseColumnType(type) as never).safeParse(value).success;
    expect(ok('integer', 2147483647)).toBe(true);
    expect(ok('integer', 2147483648)).toBe(false);
    expect(ok('bigint', '-9223372036854775808')).toBe(true);
    expect(ok('bigint', '-9223372036854775809')).toBe(false);
    expect(ok('bigint', 2 ** 60)).toBe(false);
    expect(ok('numeric(5,2)', '999.999')).toBe(true);
    expect(ok('numeric(5,2)', '1000')).toBe(false);
    expect(ok('numeric(5,2)', 1e21)).toBe(false);
    expect(ok('date', '2024-02-29')).toBe(true);
    expect(ok('date', '2023-02-29')).toBe(false);
    expect(ok('date', '0000-01-01')).toBe(false);
    expect(ok('timestamptz', '2024-01-01T00:00:00')).toBe(false);
    expect(ok('timestamptz', '2024-01-01T00:00:00.123456+05:30')).toBe(true);
    expect(ok('jsonb', { a: 'x\u0000' })).toBe(false);
    expect(ok('text', 'a\u0000')).toBe(false);
  });

  it('renders any text default as an escaped literal that reads back as the same value', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\u0000')),
        (text) => {
          const sql = defaultSql({ base: 'text' }, text);
          expect(sql.startsWith("E'") && sql.endsWith("'::text")).toBe(true);
          const body = sql.slice(2, -"'::text".length);
          // Inside E'…': no lone quote, no backslash that is not doubled.
          expect(body.replace(/''/g, '').includes("'")).toBe(false);
          expect(body.replace(/\\\\/g, '').includes('\\')).toBe(false);
          // PostgreSQL shows it back as a standard literal with doubled quotes.
          expect(defaultFromCatalog({ base: 'text' }, `'${text.replace(/'/g, "''")}'::text`)).toBe(text);
        },
      ),
    );
  });
});

describe('the table metadata cache', () => {
  it('serves a description for its TTL, then reads the catalog again; invalidation is immediate', async () => {
    let now = 0;
    const cache = new TableMetadataCache(5_000, () => now);
    let reads = 0;
    const load = async () => {
      reads += 1;
      return { name: 't' } as TableInfo;
    };
    await cache.get('d', 't', load);
    now = 4_999;
    await cache.get('d', 't', load);
    expect(reads).toBe(1);
    now = 5_000;
    await cache.get('d', 't', load);
    expect(reads).toBe(2);
    cache.invalidate('d');
    await cache.get('d', 't', load);
    expect(reads).toBe(3);
  });
});

describe('the module catalog', () => {
  it('is consistent: valid names and types, contiguous versions, known dependencies, references to tables it can see', () => {
    for (const module of moduleCatalog) {
      expect(module.migrations.map((m) => m.version)).toEqual(module.migrations.map((_, i) => i + 1));
      for (const dependency of module.dependencies) expect(moduleById(dependency), dependency).toBeDefined();
      const visible = new Set([
        ...tablesAt(module).map((t) => t.name),
        ...module.dependencies.flatMap((d) => tablesAt(moduleById(d) as never).map((t) => t.name)),
      ]);
      for (const table of tablesAt(module)) {
        expect(identifierProblem(table.name, 'table'), table.name).toBeNull();
        for (const column of table.columns) {
          expect(identifierProblem(column.name, 'column'), `${table.name}.${column.name}`).toBeNull();
          expect(parseColumnType(column.type), column.type).not.toBeNull();
          if (column.references)
            expect(visible.has(column.references.table), column.references.table).toBe(true);
        }
        for (const index of table.indexes ?? []) {
          for (const name of index.columns) expect(table.columns.map((c) => c.name)).toContain(name);
        }
      }
      // Every step renders (defaults checked against their types, names quoted).
      for (const migration of module.migrations) {
        for (const step of migration.steps) {
          expect(stepStatements(module, step, { defaultCurrency: 'EUR' }).length).toBeGreaterThan(0);
        }
      }
    }
  });
});
