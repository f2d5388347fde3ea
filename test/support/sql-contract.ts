import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type SqlConstraintKind,
  SqlConstraintViolation,
  type SqlFailure,
  type SqlRunner,
  sqlFailureOf,
  sqlJson,
} from '#shared/ports/sql';

/**
 * One row of the port's value mapping: a SQL expression and what every adapter must return for it.
 * The Data API unit tests reuse this table (keyed by `column`) so both adapters meet one standard.
 */
export interface TypeCase {
  readonly column: string;
  readonly sql: string;
  readonly expected: unknown;
}

export const TYPE_CASES: readonly TypeCase[] = [
  { column: 'text', sql: `'héllo, wörld'::text`, expected: 'héllo, wörld' },
  { column: 'varchar', sql: `'short'::varchar(10)`, expected: 'short' },
  {
    column: 'uuid',
    sql: `'0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d'::uuid`,
    expected: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d',
  },
  { column: 'numeric', sql: `'1234567890.10'::numeric(12,2)`, expected: '1234567890.10' },
  { column: 'numeric_cents', sql: `'0.05'::numeric(12,2)`, expected: '0.05' },
  { column: 'numeric_negative', sql: `'-0.30'::numeric(12,2)`, expected: '-0.30' },
  { column: 'bigint', sql: `'9007199254740993'::bigint`, expected: '9007199254740993' },
  { column: 'bigint_min', sql: `'-9223372036854775808'::bigint`, expected: '-9223372036854775808' },
  { column: 'integer', sql: `(-42)::integer`, expected: -42 },
  { column: 'smallint', sql: `7::smallint`, expected: 7 },
  { column: 'double', sql: `'0.1'::double precision`, expected: 0.1 },
  { column: 'double_large', sql: `'1.5e300'::double precision`, expected: 1.5e300 },
  { column: 'boolean_true', sql: 'true', expected: true },
  { column: 'boolean_false', sql: 'false', expected: false },
  {
    column: 'timestamptz',
    sql: `'2024-01-02 05:04:05.123456+02'::timestamptz`,
    expected: '2024-01-02T03:04:05.123Z',
  },
  {
    column: 'timestamptz_whole',
    sql: `'2024-01-02T03:04:05Z'::timestamptz`,
    expected: '2024-01-02T03:04:05.000Z',
  },
  { column: 'date', sql: `'2024-02-29'::date`, expected: '2024-02-29' },
  {
    column: 'jsonb_object',
    sql: `'{"a": 1, "nested": {"b": [true, null]}, "s": "x", "big": 12.5}'::jsonb`,
    expected: { a: 1, nested: { b: [true, null] }, s: 'x', big: 12.5 },
  },
  { column: 'jsonb_array', sql: `'[1, "two", {"three": 3}]'::jsonb`, expected: [1, 'two', { three: 3 }] },
  { column: 'jsonb_string', sql: `'"just text"'::jsonb`, expected: 'just text' },
  { column: 'json', sql: `'{"k": "v"}'::json`, expected: { k: 'v' } },
  { column: 'text_array', sql: `array['a', 'b c', 'd"e']::text[]`, expected: ['a', 'b c', 'd"e'] },
  { column: 'integer_array', sql: `array[1, 2, 3]::integer[]`, expected: [1, 2, 3] },
  { column: 'null_text', sql: 'null::text', expected: null },
  { column: 'null_integer', sql: 'null::integer', expected: null },
  { column: 'null_timestamptz', sql: 'null::timestamptz', expected: null },
  { column: 'null_jsonb', sql: 'null::jsonb', expected: null },
];

/**
 * A failure every adapter must describe alike (`sqlFailureOf`): how to cause it on a real
 * database with the contract's tables (`items` is the name of the items table), the Data API's
 * text for it, and the port's facts. The Data API unit tests reuse this table.
 */
export interface FailureCase {
  readonly name: string;
  readonly provoke: (runner: SqlRunner, items: string) => Promise<unknown>;
  readonly dataApiMessage: (items: string) => string;
  readonly expected: (items: string) => SqlFailure;
  /** Set for constraint violations, which adapters throw as `SqlConstraintViolation`. */
  readonly kind?: SqlConstraintKind;
}

export const FAILURE_CASES: readonly FailureCase[] = [
  {
    name: 'a unique violation',
    provoke: async (runner, items) => {
      await runner.execute(`insert into ${items} (name) values ('taken')`);
      await runner.execute(`insert into ${items} (name) values ('taken')`);
    },
    dataApiMessage: (items) =>
      `ERROR: duplicate key value violates unique constraint "${items}_name_key"\n  Detail: Key (name)=(taken) already exists.; SQLState: 23505`,
    expected: (items) => ({ sqlState: '23505', constraint: `${items}_name_key`, transient: false }),
    kind: 'unique',
  },
  {
    name: 'a check violation',
    provoke: (runner, items) => runner.execute(`insert into ${items} (name, qty) values ('minus', -1)`),
    dataApiMessage: (items) =>
      `ERROR: new row for relation "${items}" violates check constraint "${items}_qty_check"\n  Detail: Failing row contains (1, minus, -1, null).; SQLState: 23514`,
    expected: (items) => ({ sqlState: '23514', constraint: `${items}_qty_check`, transient: false }),
    kind: 'check',
  },
  {
    name: 'a syntax error',
    provoke: (runner) => runner.query('selec 1'),
    dataApiMessage: () => 'ERROR: syntax error at or near "selec"\n  Position: 1; SQLState: 42601',
    expected: () => ({ sqlState: '42601', constraint: undefined, transient: false }),
  },
  {
    name: 'an unknown table',
    provoke: (runner) => runner.query('select * from contract_no_such_table'),
    dataApiMessage: () =>
      'ERROR: relation "contract_no_such_table" does not exist\n  Position: 15; SQLState: 42P01',
    expected: () => ({ sqlState: '42P01', constraint: undefined, transient: false }),
  },
  {
    name: 'a division by zero',
    provoke: (runner) => runner.query('select 1 / (:zero)::integer as x', { zero: 0 }),
    dataApiMessage: () => 'ERROR: division by zero; SQLState: 22012',
    expected: () => ({ sqlState: '22012', constraint: undefined, transient: false }),
  },
  {
    name: 'a serialization failure',
    provoke: async (runner, items) => {
      await runner.execute(`insert into ${items} (name) values ('contested')`);
      await runner.transaction(async (tx) => {
        await tx.execute('set transaction isolation level repeatable read');
        await tx.query(`select qty from ${items} where name = 'contested'`);
        await runner.execute(`update ${items} set qty = 1 where name = 'contested'`);
        await tx.execute(`update ${items} set qty = 2 where name = 'contested'`);
      });
    },
    dataApiMessage: () => 'ERROR: could not serialize access due to concurrent update; SQLState: 40001',
    expected: () => ({ sqlState: '40001', constraint: undefined, transient: true }),
  },
];

export interface ContractRunner {
  readonly runner: SqlRunner;
  cleanup(): Promise<void>;
}

/**
 * The behaviour every `SqlRunner` adapter must have. `makeRunner` gives a runner on an empty
 * database the suite may create tables in; the suite drops what it made, then calls `cleanup`.
 */
export function sqlContractSuite(name: string, makeRunner: () => Promise<ContractRunner>): void {
  describe(`${name} meets the SQL port contract`, () => {
    const suffix = randomBytes(4).toString('hex');
    const parents = `contract_parents_${suffix}`;
    const items = `contract_items_${suffix}`;
    const typed = `contract_typed_${suffix}`;
    let made: ContractRunner | undefined;
    const runner = (): SqlRunner => {
      if (!made) throw new Error('runner not made');
      return made.runner;
    };
    const count = async (table: string): Promise<number> => {
      const [row] = await runner().query<{ n: number }>(`select count(*)::integer as n from ${table}`);
      return row?.n ?? -1;
    };

    beforeAll(async () => {
      made = await makeRunner();
      await made.runner.execute(`create table ${parents} (id integer primary key, name text not null)`);
      await made.runner.execute(
        `create table ${items} (
           id integer generated always as identity primary key,
           name text not null constraint ${items}_name_key unique,
           qty integer not null default 0 constraint ${items}_qty_check check (qty >= 0),
           parent_id integer constraint ${items}_parent_fkey references ${parents} (id)
         )`,
      );
      await made.runner.execute(
        `create table ${typed} (
           id integer primary key, t text, u uuid, n numeric(12,2), b bigint, i integer,
           d double precision, flag boolean, at timestamptz, day date, doc jsonb, tags text[]
         )`,
      );
    });

    afterAll(async () => {
      if (!made) return;
      try {
        await made.runner.execute(`drop table if exists ${items}, ${parents}, ${typed}`);
      } finally {
        await made.cleanup();
      }
    });

    beforeEach(async () => {
      await runner().execute(`delete from ${items}`);
      await runner().execute(`delete from ${parents}`);
      await runner().execute(`delete from ${typed}`);
    });

    describe('parameters', () => {
      it('round-trips a value of every parameter type', async () => {
        const rows = await runner().query(
          `select :s::text as s, :i::integer as i, :neg::bigint as neg, :d::double precision as d,
                  :yes::boolean as yes, :no::boolean as no, :nothing::text as nothing,
                  :doc::jsonb as doc, :list::jsonb as list, :jstr::jsonb as jstr`,
          {
            s: 'plain',
            i: 42,
            neg: -7,
            d: 2.5,
            yes: true,
            no: false,
            nothing: null,
            doc: sqlJson({ a: 1, b: ['x', null], c: { d: true } }),
            list: sqlJson([1, 2, 3]),
            jstr: sqlJson('a "quoted" string'),
          },
        );
        expect(rows).toEqual([
          {
            s: 'plain',
            i: 42,
            neg: '-7',
            d: 2.5,
            yes: true,
            no: false,
            nothing: null,
            doc: { a: 1, b: ['x', null], c: { d: true } },
            list: [1, 2, 3],
            jstr: 'a "quoted" string',
          },
        ]);
      });

      it('keeps a value with quotes, -- and :notAParam as one value', async () => {
        const tricky = `it's "quoted" -- not a comment; :notAParam ::text $1 ?`;
        expect(await runner().query('select :s::text as s', { s: tricky })).toEqual([{ s: tricky }]);
      });

      it('leaves quoted text, comments and ::casts in the SQL alone', async () => {
        const rows = await runner().query(
          `select ':notAParam' as literal, '--' as dashes, '5'::integer as five,
                  :v::integer + 1 as six -- :ghost is only a comment
          `,
          { v: 5 },
        );
        expect(rows).toEqual([{ literal: ':notAParam', dashes: '--', five: 5, six: 6 }]);
      });

      it('binds a parameter used twice to the same value', async () => {
        const rows = await runner().query('select :x::integer + :x::integer as twice, :x::text as again', {
          x: 7,
        });
        expect(rows).toEqual([{ twice: 14, again: '7' }]);
      });

      it('fails on a missing parameter before anything runs', async () => {
        await expect(
          runner().execute(`insert into ${items} (name, qty) values ('missing', :qty)`, {}),
        ).rejects.toThrow(/:qty/);
        await expect(
          runner().transaction(async (tx) => {
            await tx.execute(`insert into ${items} (name) values ('first')`);
            await tx.execute(`insert into ${items} (name, qty) values (:name, :qty)`, { name: 'second' });
          }),
        ).rejects.toThrow(/:qty/);
        expect(await count(items)).toBe(0);
      });

      it('keeps an injection attempt in a value as data', async () => {
        const evil = `x'); drop table ${items}; --`;
        await runner().execute(`insert into ${items} (name) values (:name)`, { name: evil });
        expect(await runner().query(`select name from ${items} where name = :name`, { name: evil })).toEqual([
          { name: evil },
        ]);
        expect(
          await runner().query(`select name from ${items} where name = :name`, { name: `' or '1'='1` }),
        ).toEqual([]);
        expect(await count(items)).toBe(1);
      });
    });

    describe('row value mapping', () => {
      it.each(TYPE_CASES)('$column: $sql', async ({ column, sql, expected }) => {
        expect(await runner().query(`select ${sql} as ${column}`)).toEqual([{ [column]: expected }]);
      });

      it('maps every type in one row, keyed by column label', async () => {
        const rows = await runner().query(
          `select ${TYPE_CASES.map((c) => `${c.sql} as ${c.column}`).join(', ')}`,
        );
        expect(rows).toEqual([Object.fromEntries(TYPE_CASES.map((c) => [c.column, c.expected]))]);
      });

      it('reads back typed columns written with parameters (cast in SQL)', async () => {
        const insert = `insert into ${typed} (id, t, u, n, b, i, d, flag, at, day, doc, tags)
          values (:id, :t, :u::uuid, :n::numeric, :b::bigint, :i, :d, :flag, :at::timestamptz, :day::date,
                  :doc::jsonb, array(select jsonb_array_elements_text(:tags::jsonb)))`;
        await runner().execute(insert, {
          id: 1,
          t: 'text',
          u: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d',
          n: '1234567890.10',
          b: '9223372036854775807',
          i: 2147483647,
          d: -0.25,
          flag: true,
          at: '2024-06-30T23:59:59.999Z',
          day: '2024-02-29',
          doc: sqlJson({ plan: 'pro', seats: 5 }),
          tags: sqlJson(['red', 'small']),
        });
        await runner().execute(insert, {
          id: 2,
          t: null,
          u: null,
          n: null,
          b: null,
          i: null,
          d: null,
          flag: null,
          at: null,
          day: null,
          doc: null,
          tags: sqlJson([]),
        });
        expect(await runner().query(`select * from ${typed} order by id`)).toEqual([
          {
            id: 1,
            t: 'text',
            u: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d',
            n: '1234567890.10',
            b: '9223372036854775807',
            i: 2147483647,
            d: -0.25,
            flag: true,
            at: '2024-06-30T23:59:59.999Z',
            day: '2024-02-29',
            doc: { plan: 'pro', seats: 5 },
            tags: ['red', 'small'],
          },
          {
            id: 2,
            t: null,
            u: null,
            n: null,
            b: null,
            i: null,
            d: null,
            flag: null,
            at: null,
            day: null,
            doc: null,
            tags: [],
          },
        ]);
      });

      it('returns no rows for an empty result or a statement without RETURNING', async () => {
        expect(await runner().query(`select id from ${items}`)).toEqual([]);
        expect(await runner().query(`update ${items} set qty = 1 where false`)).toEqual([]);
      });
    });

    describe('execute', () => {
      it('returns how many rows the statement touched', async () => {
        expect(await runner().execute(`insert into ${items} (name) values ('a'), ('b'), ('c')`)).toBe(3);
        expect(
          await runner().execute(`update ${items} set qty = 5 where name in (:x, :y)`, { x: 'a', y: 'b' }),
        ).toBe(2);
        expect(await runner().execute(`delete from ${items} where name = :name`, { name: 'nobody' })).toBe(0);
        expect(await runner().execute(`delete from ${items}`)).toBe(3);
      });
    });

    describe('transactions', () => {
      it('commits what the work wrote and returns its result', async () => {
        const result = await runner().transaction(async (tx) => {
          await tx.execute(`insert into ${parents} (id, name) values (1, 'p')`);
          await tx.execute(`insert into ${items} (name, parent_id) values ('child', 1)`);
          return tx.query<{ n: number }>(`select count(*)::integer as n from ${items}`);
        });
        expect(result).toEqual([{ n: 1 }]);
        expect(await count(parents)).toBe(1);
        expect(await count(items)).toBe(1);
      });

      it('rolls back everything and rethrows the same error when the work throws', async () => {
        const boom = new Error('boom');
        await expect(
          runner().transaction(async (tx) => {
            await tx.execute(`insert into ${parents} (id, name) values (1, 'p')`);
            await tx.execute(`insert into ${items} (name, parent_id) values ('child', 1)`);
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await count(parents)).toBe(0);
        expect(await count(items)).toBe(0);
      });

      it('runs a nested transaction() inside the outer one', async () => {
        const boom = new Error('outer fails after inner finished');
        await expect(
          runner().transaction(async (tx) => {
            await tx.transaction((inner) => inner.execute(`insert into ${items} (name) values ('inner')`));
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await count(items)).toBe(0);

        await runner().transaction(async (tx) => {
          await tx.transaction((inner) => inner.execute(`insert into ${items} (name) values ('inner')`));
          await tx.execute(`insert into ${items} (name) values ('outer')`);
        });
        expect(await count(items)).toBe(2);
      });

      it('rolls back and reports a constraint violation raised inside', async () => {
        const work = runner().transaction(async (tx) => {
          await tx.execute(`insert into ${items} (name) values ('once')`);
          await tx.execute(`insert into ${items} (name) values ('once')`);
        });
        await expect(work).rejects.toBeInstanceOf(SqlConstraintViolation);
        await expect(work).rejects.toMatchObject({ kind: 'unique', constraint: `${items}_name_key` });
        expect(await count(items)).toBe(0);
      });
    });

    describe('constraint violations', () => {
      const expectViolation = async (
        work: Promise<unknown>,
        kind: string,
        constraint: string | undefined,
      ) => {
        await expect(work).rejects.toBeInstanceOf(SqlConstraintViolation);
        await expect(work).rejects.toMatchObject({ kind, constraint });
      };

      it('maps a unique violation to kind unique with the constraint name', async () => {
        const insert = `insert into ${items} (name) values (:name)`;
        await runner().execute(insert, { name: 'taken' });
        await expectViolation(runner().execute(insert, { name: 'taken' }), 'unique', `${items}_name_key`);
        expect(await count(items)).toBe(1);
      });

      it('maps a foreign key violation to kind foreign_key', async () => {
        await expectViolation(
          runner().execute(`insert into ${items} (name, parent_id) values ('orphan', :parent)`, {
            parent: 999,
          }),
          'foreign_key',
          `${items}_parent_fkey`,
        );
      });

      it('maps a check violation to kind check', async () => {
        await expectViolation(
          runner().execute(`insert into ${items} (name, qty) values ('negative', :qty)`, { qty: -1 }),
          'check',
          `${items}_qty_check`,
        );
      });

      it('maps a not-null violation to kind not_null', async () => {
        await expectViolation(
          runner().execute(`insert into ${items} (name) values (:name)`, { name: null }),
          'not_null',
          undefined,
        );
      });

      it('leaves other database errors as they are', async () => {
        const bad = runner().query('select * from contract_no_such_table');
        await expect(bad).rejects.toThrow(/contract_no_such_table/);
        await expect(bad).rejects.not.toBeInstanceOf(SqlConstraintViolation);
      });
    });

    describe('failures, described alike by every adapter', () => {
      it.each(FAILURE_CASES)('describes $name', async (failureCase) => {
        const error = await failureCase.provoke(runner(), items).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error, 'the statement should have failed').toBeInstanceOf(Error);
        const failure = sqlFailureOf(error);
        expect(failure).toBeDefined();
        expect({
          sqlState: failure?.sqlState,
          constraint: failure?.constraint,
          transient: failure?.transient,
        }).toEqual(failureCase.expected(items));
        if (failureCase.kind) {
          expect(error).toBeInstanceOf(SqlConstraintViolation);
          expect(error).toMatchObject({ kind: failureCase.kind });
        } else expect(error).not.toBeInstanceOf(SqlConstraintViolation);
      });

      it('describes nothing it did not fail itself: the work’s own errors stay undescribed', async () => {
        const boom = new Error('deadlock detected, says the work, not the database');
        await expect(runner().transaction(async () => Promise.reject(boom))).rejects.toBe(boom);
        expect(sqlFailureOf(boom)).toBeUndefined();
      });
    });
  });
}
