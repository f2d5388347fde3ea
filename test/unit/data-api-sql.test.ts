import 'aws-sdk-client-mock-vitest/extend';
import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  DatabaseResumingException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
  StatementTimeoutException,
} from '@aws-sdk/client-rds-data';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DataApiSqlRunner,
  DatabaseResuming,
  toIsoTimestamp,
  toPlainDecimal,
  translateDataApiError,
} from '#shared/adapters/data-api-sql';
import { rowConflict } from '#shared/data/row-errors';
import { cappedWriteSql, MAX_ROW_BYTES, rowCapParams } from '#shared/data/row-size';
import { RowTooLarge } from '#shared/errors';
import { SqlConstraintViolation, type SqlParam, sqlFailureOf, sqlJson } from '#shared/ports/sql';
import { FAILURE_CASES, TYPE_CASES } from '../support/sql-contract.ts';

const client = new RDSDataClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
});
const rds = mockClient(client);
const target = {
  resourceArn: 'arn:aws:rds:eu-west-1:123456789012:cluster:tenantry',
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:tenantry/dev/control-AbCdEf',
  database: 'control',
};
const runner = new DataApiSqlRunner({ client, ...target });
const RECORD_OPTIONS = {
  includeResultMetadata: true,
  resultSetOptions: { decimalReturnType: 'STRING', longReturnType: 'STRING' },
};

const executeInputs = (): ExecuteStatementCommandInput[] =>
  rds.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
const commandNames = (): string[] => rds.calls().map((call) => call.args[0].constructor.name);
const dbError = (message: string) => new DatabaseErrorException({ message, $metadata: {} });

beforeEach(() => {
  rds.reset();
});

describe('DataApiSqlRunner requests', () => {
  const cases: [string, SqlParam, SqlParameter][] = [
    ['a string', 'héllo', { name: 'v', value: { stringValue: 'héllo' } }],
    [
      'an ISO timestamp string (no type hint: SQL casts it)',
      '2024-01-02T03:04:05.000Z',
      {
        name: 'v',
        value: { stringValue: '2024-01-02T03:04:05.000Z' },
      },
    ],
    [
      'a uuid-looking string (no type hint)',
      '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d',
      {
        name: 'v',
        value: { stringValue: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d' },
      },
    ],
    ['an integer', 42, { name: 'v', value: { longValue: 42 } }],
    ['a negative integer', -7, { name: 'v', value: { longValue: -7 } }],
    ['zero', 0, { name: 'v', value: { longValue: 0 } }],
    ['a non-integer', 2.5, { name: 'v', value: { doubleValue: 2.5 } }],
    ['an integer beyond 2^53', 2 ** 60, { name: 'v', value: { doubleValue: 2 ** 60 } }],
    ['true', true, { name: 'v', value: { booleanValue: true } }],
    ['false', false, { name: 'v', value: { booleanValue: false } }],
    ['null', null, { name: 'v', value: { isNull: true } }],
    [
      'a JSON object',
      sqlJson({ a: [1, null], b: 'x' }),
      {
        name: 'v',
        value: { stringValue: '{"a":[1,null],"b":"x"}' },
        typeHint: 'JSON',
      },
    ],
    [
      'a JSON array',
      sqlJson(['red', 'small']),
      { name: 'v', value: { stringValue: '["red","small"]' }, typeHint: 'JSON' },
    ],
    ['a JSON string', sqlJson('x'), { name: 'v', value: { stringValue: '"x"' }, typeHint: 'JSON' }],
  ];

  it.each(cases)('sends %s as a typed SqlParameter', async (_, value, parameter) => {
    rds.on(ExecuteStatementCommand).resolves({ records: [], columnMetadata: [] });
    await runner.query('select :v as v', { v: value });
    expect(rds).toHaveReceivedCommandOnce(ExecuteStatementCommand);
    expect(executeInputs()).toStrictEqual([
      { ...target, sql: 'select :v as v', parameters: [parameter], ...RECORD_OPTIONS },
    ]);
  });

  it('sends the SQL verbatim, each used parameter once, and no unused one', async () => {
    rds.on(ExecuteStatementCommand).resolves({ records: [], columnMetadata: [] });
    const sql = `select ':notAParam' as literal, :x::integer + :x::integer as twice, :at::timestamptz as at -- :ghost`;
    await runner.query(sql, { x: 7, at: '2024-01-02T03:04:05.000Z', unused: 'dropped' });
    expect(rds).toHaveReceivedCommandWith(ExecuteStatementCommand, { sql });
    expect(executeInputs()[0]?.parameters).toStrictEqual([
      { name: 'x', value: { longValue: 7 } },
      { name: 'at', value: { stringValue: '2024-01-02T03:04:05.000Z' } },
    ]);
  });

  it('keeps an injection attempt as a parameter value, never in the SQL', async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    const evil = `x'); drop table tenants; --`;
    await runner.execute('insert into tenants (name) values (:name)', { name: evil });
    expect(executeInputs()).toStrictEqual([
      {
        ...target,
        sql: 'insert into tenants (name) values (:name)',
        parameters: [{ name: 'name', value: { stringValue: evil } }],
      },
    ]);
  });

  it('execute asks for no records and returns numberOfRecordsUpdated', async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 3 });
    expect(await runner.execute('delete from items where qty > :q', { q: 1 })).toBe(3);
    expect(executeInputs()[0]).not.toHaveProperty('includeResultMetadata');
    expect(executeInputs()[0]).not.toHaveProperty('formatRecordsAs');
    rds.on(ExecuteStatementCommand).resolves({});
    expect(await runner.execute('delete from items where false')).toBe(0);
  });

  it('fails on a missing parameter without sending anything', async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    await expect(
      runner.execute('insert into items (name, qty) values (:name, :qty)', { name: 'x' }),
    ).rejects.toThrow(/:qty/);
    await expect(runner.query('select :v::float8 as v', { v: Number.NaN })).rejects.toThrow(/finite/);
    expect(rds).not.toHaveReceivedAnyCommand();
  });
});

/**
 * How the Data API sends each contract value as a typed record (with `longReturnType` and
 * `decimalReturnType` STRING): timestamps as UTC text without zone, json as text, arrays as
 * `arrayValue`, NULL as `isNull`. Integers are covered both as stringValue and longValue.
 */
const WIRE: Record<string, { typeName: string; field: Field }> = {
  text: { typeName: 'text', field: { stringValue: 'héllo, wörld' } },
  varchar: { typeName: 'varchar', field: { stringValue: 'short' } },
  uuid: { typeName: 'uuid', field: { stringValue: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d' } },
  numeric: { typeName: 'numeric', field: { stringValue: '1234567890.10' } },
  numeric_cents: { typeName: 'numeric', field: { stringValue: '0.05' } },
  numeric_negative: { typeName: 'numeric', field: { stringValue: '-0.30' } },
  bigint: { typeName: 'int8', field: { stringValue: '9007199254740993' } },
  bigint_min: { typeName: 'int8', field: { stringValue: '-9223372036854775808' } },
  integer: { typeName: 'int4', field: { stringValue: '-42' } },
  smallint: { typeName: 'int2', field: { longValue: 7 } },
  double: { typeName: 'float8', field: { doubleValue: 0.1 } },
  double_large: { typeName: 'float8', field: { doubleValue: 1.5e300 } },
  boolean_true: { typeName: 'bool', field: { booleanValue: true } },
  boolean_false: { typeName: 'bool', field: { booleanValue: false } },
  timestamptz: { typeName: 'timestamptz', field: { stringValue: '2024-01-02 03:04:05.123456' } },
  timestamptz_whole: { typeName: 'timestamptz', field: { stringValue: '2024-01-02 03:04:05' } },
  date: { typeName: 'date', field: { stringValue: '2024-02-29' } },
  jsonb_object: {
    typeName: 'jsonb',
    field: { stringValue: '{"a": 1, "s": "x", "big": 12.5, "nested": {"b": [true, null]}}' },
  },
  jsonb_array: { typeName: 'jsonb', field: { stringValue: '[1, "two", {"three": 3}]' } },
  jsonb_string: { typeName: 'jsonb', field: { stringValue: '"just text"' } },
  json: { typeName: 'json', field: { stringValue: '{"k": "v"}' } },
  text_array: { typeName: '_text', field: { arrayValue: { stringValues: ['a', 'b c', 'd"e'] } } },
  integer_array: { typeName: '_int4', field: { arrayValue: { longValues: [1, 2, 3] } } },
  null_text: { typeName: 'text', field: { isNull: true } },
  null_integer: { typeName: 'int4', field: { isNull: true } },
  null_timestamptz: { typeName: 'timestamptz', field: { isNull: true } },
  null_jsonb: { typeName: 'jsonb', field: { isNull: true } },
};

const column = (label: string, typeName: string) => ({ label, name: label, typeName });

describe('DataApiSqlRunner decoding (held to the contract table)', () => {
  it('has a wire value for every contract case', () => {
    expect(Object.keys(WIRE).sort()).toEqual(TYPE_CASES.map((c) => c.column).sort());
  });

  it.each(TYPE_CASES)(
    '$column decodes to what the pg adapter returns',
    async ({ column: name, expected }) => {
      const wire = WIRE[name];
      if (!wire) throw new Error(`no wire value for ${name}`);
      rds
        .on(ExecuteStatementCommand)
        .resolves({ records: [[wire.field]], columnMetadata: [column(name, wire.typeName)] });
      expect(await runner.query(`select x as ${name}`)).toStrictEqual([{ [name]: expected }]);
    },
  );

  it('decodes a multi-row payload with every type, keyed by column label', async () => {
    const columns = TYPE_CASES.map((c) => column(c.column, WIRE[c.column]?.typeName ?? '?'));
    const record = TYPE_CASES.map((c) => WIRE[c.column]?.field ?? { isNull: true });
    rds.on(ExecuteStatementCommand).resolves({ records: [record, record], columnMetadata: columns });
    const expected = Object.fromEntries(TYPE_CASES.map((c) => [c.column, c.expected]));
    expect(await runner.query('select …')).toStrictEqual([expected, expected]);
  });

  it('decodes values that arrive in other documented shapes', async () => {
    rds.on(ExecuteStatementCommand).resolves({
      columnMetadata: [
        column('id', 'serial'),
        column('big_as_long', 'int8'),
        column('tiny', 'numeric'),
        column('at_offset', 'timestamptz'),
        column('local', 'timestamp'),
        column('ids', '_int8'),
        column('flags', '_bool'),
        column('grid', '_int4'),
        { name: 'unlabelled', typeName: 'text' },
        column('status', 'tenant_status'),
      ],
      records: [
        [
          { longValue: 5 },
          { longValue: 12 },
          { stringValue: '1.5E-7' },
          { stringValue: '2024-01-02 05:04:05.1+02:00' },
          { stringValue: '2024-01-02 03:04:05.5' },
          { arrayValue: { stringValues: ['9007199254740993'] } },
          { arrayValue: { booleanValues: [true, false] } },
          { arrayValue: { arrayValues: [{ longValues: [1, 2] }, { longValues: [3, 4] }] } },
          { stringValue: 'by name' },
          { stringValue: 'active' },
        ],
      ],
    });
    expect(await runner.query('select …')).toStrictEqual([
      {
        id: 5,
        big_as_long: '12',
        tiny: '0.00000015',
        at_offset: '2024-01-02T03:04:05.100Z',
        local: '2024-01-02T03:04:05.500Z',
        ids: ['9007199254740993'],
        flags: [true, false],
        grid: [
          [1, 2],
          [3, 4],
        ],
        unlabelled: 'by name',
        status: 'active',
      },
    ]);
  });

  it('returns no rows for a statement without records', async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 2 });
    expect(await runner.query('update items set qty = 0')).toEqual([]);
  });

  it('normalises timestamps and decimals like PostgreSQL text', () => {
    expect(toIsoTimestamp('2024-01-02 03:04:05.9999999')).toBe('2024-01-02T03:04:05.999Z');
    expect(toIsoTimestamp('2024-01-02 03:04:05+0530')).toBe('2024-01-01T21:34:05.000Z');
    expect(toIsoTimestamp('2024-01-02 03:04:05-01')).toBe('2024-01-02T04:04:05.000Z');
    expect(toIsoTimestamp('infinity')).toBe('infinity');
    expect(toPlainDecimal('1234.50')).toBe('1234.50');
    expect(toPlainDecimal('1.2345E+3')).toBe('1234.5');
    expect(toPlainDecimal('-1E+2')).toBe('-100');
    expect(toPlainDecimal('-5E-3')).toBe('-0.005');
  });
});

describe('DataApiSqlRunner transactions', () => {
  it('begins, passes the transactionId on every call (nested too) and commits', async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: 'tx-1' });
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1, records: [], columnMetadata: [] });
    rds.on(CommitTransactionCommand).resolves({ transactionStatus: 'Transaction Committed' });

    const result = await runner.transaction(async (tx) => {
      await tx.execute('insert into tenants (id) values (:id)', { id: 't1' });
      await tx.transaction((inner) =>
        inner.execute('insert into memberships (tenant_id) values (:id)', { id: 't1' }),
      );
      await tx.query('select id from tenants');
      return 'done';
    });

    expect(result).toBe('done');
    expect(rds).toHaveReceivedCommandExactlyOnceWith(BeginTransactionCommand, target);
    expect(rds.commandCalls(BeginTransactionCommand)[0]?.args[0].input).toStrictEqual(target);
    expect(executeInputs().map((input) => input.transactionId)).toEqual(['tx-1', 'tx-1', 'tx-1']);
    expect(rds.commandCalls(CommitTransactionCommand).map((call) => call.args[0].input)).toStrictEqual([
      { resourceArn: target.resourceArn, secretArn: target.secretArn, transactionId: 'tx-1' },
    ]);
    expect(rds).not.toHaveReceivedCommand(RollbackTransactionCommand);
    expect(commandNames()).toEqual([
      'BeginTransactionCommand',
      'ExecuteStatementCommand',
      'ExecuteStatementCommand',
      'ExecuteStatementCommand',
      'CommitTransactionCommand',
    ]);
  });

  it('sends no transactionId outside a transaction', async () => {
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    await runner.execute('delete from items');
    expect(executeInputs()[0]).not.toHaveProperty('transactionId');
  });

  it('rolls back and rethrows the same error when the work throws, without committing', async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: 'tx-2' });
    rds.on(ExecuteStatementCommand).resolves({ numberOfRecordsUpdated: 1 });
    rds.on(RollbackTransactionCommand).resolves({ transactionStatus: 'Rollback Complete' });
    const boom = new Error('boom');
    await expect(
      runner.transaction(async (tx) => {
        await tx.execute('insert into tenants (id) values (:id)', { id: 't1' });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(rds).toHaveReceivedCommandExactlyOnceWith(RollbackTransactionCommand, {
      resourceArn: target.resourceArn,
      secretArn: target.secretArn,
      transactionId: 'tx-2',
    });
    expect(rds).not.toHaveReceivedCommand(CommitTransactionCommand);
  });

  it('rolls back on a constraint violation inside and reports it; a failed rollback does not hide it', async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: 'tx-3' });
    rds
      .on(ExecuteStatementCommand)
      .rejects(
        dbError('ERROR: duplicate key value violates unique constraint "tenants_pkey"; SQLState: 23505'),
      );
    rds.on(RollbackTransactionCommand).rejects(new Error('rollback failed'));
    const work = runner.transaction((tx) =>
      tx.execute('insert into tenants (id) values (:id)', { id: 't1' }),
    );
    await expect(work).rejects.toBeInstanceOf(SqlConstraintViolation);
    await expect(work).rejects.toMatchObject({ kind: 'unique', constraint: 'tenants_pkey' });
    expect(rds).toHaveReceivedCommandOnce(RollbackTransactionCommand);
    expect(rds).not.toHaveReceivedCommand(CommitTransactionCommand);
  });

  it('a missing parameter inside a transaction sends nothing for it and rolls back', async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: 'tx-4' });
    rds.on(RollbackTransactionCommand).resolves({});
    await expect(runner.transaction((tx) => tx.execute('insert into t (a) values (:a)'))).rejects.toThrow(
      /:a/,
    );
    expect(rds).not.toHaveReceivedCommand(ExecuteStatementCommand);
    expect(commandNames()).toEqual(['BeginTransactionCommand', 'RollbackTransactionCommand']);
  });
});

describe('DataApiSqlRunner errors', () => {
  const violations: [string, Error, SqlConstraintViolation['kind'], string | undefined][] = [
    [
      'unique (DatabaseErrorException with SQLState)',
      dbError(
        'ERROR: duplicate key value violates unique constraint "users_email_key"\n  Detail: Key (email)=(ada@example.com) already exists.; SQLState: 23505',
      ),
      'unique',
      'users_email_key',
    ],
    [
      'unique (legacy BadRequestException, no SQLState)',
      new BadRequestException({
        message:
          'ERROR: duplicate key value violates unique constraint "tenants_pkey"\n  Detail: Key (id)=(t1) already exists.',
        $metadata: {},
      }),
      'unique',
      'tenants_pkey',
    ],
    [
      'foreign key on insert',
      dbError(
        'ERROR: insert or update on table "memberships" violates foreign key constraint "memberships_tenant_id_fkey"\n  Detail: Key (tenant_id)=(t9) is not present in table "tenants".; SQLState: 23503',
      ),
      'foreign_key',
      'memberships_tenant_id_fkey',
    ],
    [
      'foreign key on delete',
      dbError(
        'ERROR: update or delete on table "tenants" violates foreign key constraint "memberships_tenant_id_fkey" on table "memberships"\n  Detail: Key (id)=(t1) is still referenced from table "memberships".; SQLState: 23503',
      ),
      'foreign_key',
      'memberships_tenant_id_fkey',
    ],
    [
      'check',
      dbError(
        'ERROR: new row for relation "tenants" violates check constraint "tenants_status_check"\n  Detail: Failing row contains (t1, bogus).; SQLState: 23514',
      ),
      'check',
      'tenants_status_check',
    ],
    [
      'not null',
      dbError(
        'ERROR: null value in column "name" of relation "tenants" violates not-null constraint\n  Detail: Failing row contains (t1, null).; SQLState: 23502',
      ),
      'not_null',
      undefined,
    ],
  ];

  it.each(violations)('maps %s to SqlConstraintViolation', async (_, error, kind, constraint) => {
    rds.on(ExecuteStatementCommand).rejects(error);
    const attempt = runner.execute('insert into tenants (id) values (:id)', { id: 't1' });
    await expect(attempt).rejects.toBeInstanceOf(SqlConstraintViolation);
    await expect(attempt).rejects.toMatchObject({ kind, constraint, cause: error });
    expect(rds).toHaveReceivedCommandOnce(ExecuteStatementCommand);
  });

  it('leaves other database errors unchanged', () => {
    const missing = dbError('ERROR: relation "nope" does not exist\n  Position: 15; SQLState: 42P01');
    expect(translateDataApiError(missing)).toBe(missing);
    const notAViolation = dbError('ERROR: value too long for type character varying(3); SQLState: 22001');
    expect(translateDataApiError(notAViolation)).toBe(notAViolation);
  });

  it('maps DatabaseResumingException to a retryable DatabaseResuming', async () => {
    const resuming = new DatabaseResumingException({
      message: 'Database is resuming after being auto-paused. Please wait a few seconds and try again.',
      $metadata: {},
    });
    rds.on(ExecuteStatementCommand).rejects(resuming);
    const attempt = runner.query('select 1 as one');
    await expect(attempt).rejects.toBeInstanceOf(DatabaseResuming);
    await expect(attempt).rejects.toMatchObject({
      name: 'DatabaseResuming',
      retryable: true,
      cause: resuming,
    });

    rds.reset();
    rds.on(BeginTransactionCommand).rejects(resuming);
    await expect(runner.transaction(async () => 'never')).rejects.toBeInstanceOf(DatabaseResuming);
    expect(commandNames()).toEqual(['BeginTransactionCommand']);
  });

  it("turns the row cap's guard, as the Data API reports it, into a 400 row_too_large (nothing was written)", async () => {
    // Arrange: PostgreSQL aborted the capped insert; the Data API reports it as a database error.
    rds.on(ExecuteStatementCommand).rejects(dbError('ERROR: division by zero; SQLState: 22012'));

    // Act
    const error = await runner
      .query(cappedWriteSql(`insert into "notes" ("a") values (:v0::text)`, '"id", "a"'), {
        v0: 'x',
        ...rowCapParams,
      })
      .catch((thrown: unknown) => thrown);

    // Assert: the cap went as a parameter, and the failure means "too large" to the rows API.
    expect(executeInputs()[0]?.parameters).toContainEqual({
      name: 'maxRowBytes',
      value: { longValue: MAX_ROW_BYTES },
    });
    expect(() => rowConflict(error, 'd_aaaaaaaaaaaaaaaa', 'notes')).toThrow(RowTooLarge);
  });

  it('never retries a failed statement itself', async () => {
    const timeout = new StatementTimeoutException({ message: 'The statement timed out', $metadata: {} });
    rds.on(ExecuteStatementCommand).rejects(timeout);
    await expect(runner.execute('update counters set n = n + 1')).rejects.toBe(timeout);
    expect(rds).toHaveReceivedCommandTimes(ExecuteStatementCommand, 1);
  });
});

describe('DataApiSqlRunner failures (held to the contract table)', () => {
  const items = 'contract_items_0a1b2c3d';

  it.each(FAILURE_CASES)('describes $name as the contract says', async (failureCase) => {
    const sent = dbError(failureCase.dataApiMessage(items));
    rds.on(ExecuteStatementCommand).rejects(sent);
    const error = await runner.execute('select 1').catch((thrown: unknown) => thrown);
    const failure = sqlFailureOf(error);
    expect({
      sqlState: failure?.sqlState,
      constraint: failure?.constraint,
      transient: failure?.transient,
    }).toEqual(failureCase.expected(items));
    if (failureCase.kind) expect(error).toMatchObject({ kind: failureCase.kind, cause: sent });
    else expect(error).toBe(sent);
  });

  it('calls a resuming database and a dropped connection transient, a statement timeout not', async () => {
    const resuming = new DatabaseResumingException({ message: 'Database is resuming', $metadata: {} });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const timeout = new StatementTimeoutException({ message: 'The statement timed out', $metadata: {} });
    const outcomes: [Error, boolean][] = [
      [resuming, true],
      [reset, true],
      [timeout, false],
    ];
    for (const [sent, transient] of outcomes) {
      rds.reset();
      rds.on(ExecuteStatementCommand).rejects(sent);
      const error = await runner.query('select 1').catch((thrown: unknown) => thrown);
      expect(sqlFailureOf(error)?.transient, sent.message).toBe(transient);
    }
  });

  it('judges transience on the error, not on the SQLSTATE in its text (as the saga always has)', () => {
    const startingUp = dbError('ERROR: the database system is starting up; SQLState: 57P03');
    expect(sqlFailureOf(translateDataApiError(startingUp))).toEqual({
      sqlState: '57P03',
      constraint: undefined,
      transient: false,
    });
    const deadlock = dbError(
      'ERROR: deadlock detected\n  Detail: Process 1 waits for ShareLock; SQLState: 40P01',
    );
    expect(sqlFailureOf(translateDataApiError(deadlock))?.transient).toBe(true);
  });

  it('leaves errors thrown by the work of a transaction as they were, undescribed', async () => {
    rds.on(BeginTransactionCommand).resolves({ transactionId: 'tx-9' });
    rds.on(RollbackTransactionCommand).resolves({});
    const boom = new Error('too many clients, says the work');
    await expect(runner.transaction(async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(sqlFailureOf(boom)).toBeUndefined();
  });
});
