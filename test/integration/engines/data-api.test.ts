import {
  BatchExecuteStatementCommand,
  CommitTransactionCommand,
  DatabaseErrorException,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  UnsupportedResultException,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataApiHandle } from '#infra/local/engines/data-api/index';
import type { AccessRequest, Authorize } from '#infra/local/iam/access';
import {
  type DataApiFixture,
  dataApiClient,
  dataApiFixture,
  failure,
  fixtureCalls,
  rawCall,
} from '../../support/data-api-fixture.ts';

/*
 * The Data API stand-in (infra/local/engines/data-api) against the real RDSDataClient and the test
 * platform's PostgreSQL. Each describe names the AWS page whose behaviour it holds the stand-in to.
 */
const DENIED_PRINCIPAL = 'arn:aws:sts::000000000000:assumed-role/TenantFunction/fn';
const requests: AccessRequest[] = [];
const authorize: Authorize = (request) => {
  requests.push(request);
  const denied =
    (request.accessKeyId === 'AKIDNODATAAPI' && request.action.startsWith('rds-data:')) ||
    (request.accessKeyId === 'AKIDOTHERTENANT' &&
      request.action === 'secretsmanager:GetSecretValue' &&
      request.context['secretsmanager:ResourceTag/TenantId'] !== 't_other');
  return denied ? { allowed: false, principalArn: DENIED_PRINCIPAL, explicit: false } : { allowed: true };
};

let fixture: DataApiFixture;
let handle: DataApiHandle;
let client: RDSDataClient;

const { target, exec, begin } = fixtureCalls(
  () => fixture,
  () => client,
);
const one = async (
  sql: string,
  input: Partial<ExecuteStatementCommandInput> = {},
): Promise<Field | undefined> => (await exec({ sql, ...input })).records?.[0]?.[0];

beforeAll(async () => {
  fixture = await dataApiFixture('dapi_engine');
  ({ handle, client } = await fixture.start({ authorize }));
  await exec({
    sql: `create table items (id serial primary key, name text not null unique, price numeric(12,2), tags text[])`,
  });
  await exec({ sql: `create type mood as enum ('happy', 'sad')` });
});

afterAll(async () => {
  await fixture?.cleanup();
});

describe('ExecuteStatement results (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html)', () => {
  it('returns typed records, no columnMetadata unless asked, and 0 records updated for a query', async () => {
    const output = await exec({ sql: `select 1::int4 as one, 'x'::text as x` });
    expect(output.records).toEqual([[{ longValue: 1 }, { stringValue: 'x' }]]);
    expect(output.columnMetadata).toBeUndefined();
    expect(output.numberOfRecordsUpdated).toBe(0);
  });

  it('returns numberOfRecordsUpdated and empty generatedFields for DML (not supported by Aurora PostgreSQL)', async () => {
    const output = await exec({ sql: `insert into items (name, price) values ('a', 1), ('b', 2)` });
    expect(output).toMatchObject({ numberOfRecordsUpdated: 2, generatedFields: [] });
    expect(output.records).toBeUndefined();
    expect((await exec({ sql: `delete from items where name in ('a', 'b')` })).numberOfRecordsUpdated).toBe(
      2,
    );
  });

  it('describes columns with includeResultMetadata (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ColumnMetadata.html)', async () => {
    await exec({ sql: `insert into items (name, price, tags) values ('meta', 3.5, '{a}')` });
    const output = await exec({
      sql: `select id, name, price, tags, now() as at from items where name = 'meta'`,
      includeResultMetadata: true,
    });
    await exec({ sql: `delete from items where name = 'meta'` });
    const byName = Object.fromEntries((output.columnMetadata ?? []).map((c) => [c.name, c]));
    expect(byName.id).toMatchObject({ typeName: 'serial', type: 4, isAutoIncrement: true, nullable: 0 });
    expect(byName.id).toMatchObject({
      tableName: 'items',
      schemaName: 'public',
      label: 'id',
      isSigned: true,
    });
    expect(byName.name).toMatchObject({ typeName: 'text', type: 12, nullable: 0, isCaseSensitive: true });
    expect(byName.price).toMatchObject({
      typeName: 'numeric',
      type: 2,
      precision: 12,
      scale: 2,
      nullable: 1,
    });
    expect(byName.tags).toMatchObject({ typeName: '_text', type: 2003, arrayBaseColumnType: 12 });
    expect(byName.at).toMatchObject({ typeName: 'timestamptz', type: 93, tableName: '', nullable: 2 });
  });

  // JDBC type → Data API type table and "TIMESTAMPTZ in UTC":
  // https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations
  it.each([
    ['7::int2', { longValue: 7 }],
    ['-42::int4', { longValue: -42 }],
    ['9007199254740991::int8', { longValue: 9007199254740991 }],
    ['0.25::float8', { doubleValue: 0.25 }],
    ['1.5::float4', { doubleValue: 1.5 }],
    [`'1234567890.10'::numeric`, { stringValue: '1234567890.10' }],
    [`'0.00000015'::numeric`, { stringValue: '1.5E-7' }],
    ['true', { booleanValue: true }],
    [`'2024-02-29'::date`, { stringValue: '2024-02-29' }],
    [`'13:14:15.5'::time`, { stringValue: '13:14:15.5' }],
    [`'2024-01-02 03:04:05.123456'::timestamp`, { stringValue: '2024-01-02 03:04:05.123456' }],
    [`'2024-01-02 05:04:05.5+02'::timestamptz`, { stringValue: '2024-01-02 03:04:05.5' }],
    [`'0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d'::uuid`, { stringValue: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d' }],
    [`'{"b": 1, "a": [true]}'::jsonb`, { stringValue: '{"a": [true], "b": 1}' }],
    [`'10.0.0.1'::inet`, { stringValue: '10.0.0.1' }],
    [`'happy'::mood`, { stringValue: 'happy' }],
    [`'ab'::char(3)`, { stringValue: 'ab ' }],
    ['null::int4', { isNull: true }],
    [`array['a', null, 'b c']::text[]`, { arrayValue: { stringValues: ['a', null, 'b c'] } }],
    ['array[1, 2]::int8[]', { arrayValue: { longValues: [1, 2] } }],
    ['array[true, false]', { arrayValue: { booleanValues: [true, false] } }],
    ['array[0.5, null]::float8[]', { arrayValue: { doubleValues: [0.5, null] } }],
    [`'{}'::int4[]`, { arrayValue: { longValues: [] } }],
  ])('returns %s as %j', async (sql, expected) => {
    expect(await one(`select ${sql} as v`)).toEqual(expected);
  });

  it('returns bytea as blobValue', async () => {
    const field = await one(`select '\\x00ff10'::bytea as v`);
    expect(Buffer.from(field?.blobValue ?? new Uint8Array())).toEqual(Buffer.from([0, 255, 16]));
  });

  it('applies resultSetOptions: longReturnType STRING, decimalReturnType DOUBLE_OR_LONG (scale 0 → long)', async () => {
    const sql = `select 9223372036854775807::int8, 5::int4, '12'::numeric, '1.25'::numeric`;
    const strings = await exec({ sql, resultSetOptions: { longReturnType: 'STRING' } });
    expect(strings.records?.[0]).toEqual([
      { stringValue: '9223372036854775807' },
      { stringValue: '5' },
      { stringValue: '12' },
      { stringValue: '1.25' },
    ]);
    const numbers = await exec({ sql, resultSetOptions: { decimalReturnType: 'DOUBLE_OR_LONG' } });
    expect(numbers.records?.[0]?.slice(1)).toEqual([
      { longValue: 5 },
      { longValue: 12 },
      { doubleValue: 1.25 },
    ]);
  });

  it('formats records as one JSON string (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-json.html)', async () => {
    const output = await exec({
      sql: `select 9007199254740993::int8 as big, 0.5::float8 as f, '1.10'::numeric as n, true as b,
                   '{"k": 1}'::jsonb as j, array[1, 2] as a, null::text as nothing, '2024-01-02'::date as d`,
      formatRecordsAs: 'JSON',
      includeResultMetadata: true,
    });
    expect(output.formattedRecords).toBe(
      '[{"big":9007199254740993,"f":0.5,"n":"1.10","b":true,"j":"{\\"k\\": 1}","a":[1,2],"nothing":null,"d":"2024-01-02"}]',
    );
    expect(output.records).toBeUndefined();
    expect(output.columnMetadata).toBeUndefined();
    const strings = await exec({
      sql: `select 5::int4 as i`,
      formatRecordsAs: 'JSON',
      resultSetOptions: { longReturnType: 'STRING' },
    });
    expect(strings.formattedRecords).toBe('[{"i":"5"}]');
  });
});

describe('ExecuteStatement parameters and type hints (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations)', () => {
  it.each([
    [{ longValue: 42 }, undefined, 'bigint'],
    [{ doubleValue: 2.5 }, undefined, 'double precision'],
    [{ booleanValue: true }, undefined, 'boolean'],
    [{ stringValue: 'x' }, undefined, 'character varying'],
    [{ blobValue: new Uint8Array([1, 2]) }, undefined, 'bytea'],
    [{ stringValue: '2024-02-29' }, 'DATE', 'date'],
    [{ stringValue: '12.50' }, 'DECIMAL', 'numeric'],
    [{ stringValue: '{"a": 1}' }, 'JSON', 'json'],
    [{ stringValue: '13:14:15.123' }, 'TIME', 'time without time zone'],
    [{ stringValue: '2024-01-02 03:04:05.123' }, 'TIMESTAMP', 'timestamp without time zone'],
    [{ stringValue: '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d' }, 'UUID', 'uuid'],
  ] as const)('binds %j with hint %s as %s', async (value, typeHint, type) => {
    const field = await one('select pg_typeof(:v)::text as t', {
      parameters: [{ name: 'v', value, ...(typeHint ? { typeHint } : {}) }],
    });
    expect(field).toEqual({ stringValue: type });
  });

  it('binds one name used twice once, and leaves quoted :names and ::casts alone', async () => {
    const output = await exec({
      sql: `select :x::int4 + :x::int4 as twice, ':x' as quoted -- :ghost`,
      parameters: [{ name: 'x', value: { longValue: 7 } }],
    });
    expect(output.records).toEqual([[{ longValue: 14 }, { stringValue: ':x' }]]);
  });

  it('sends strings as varchar: a string into an integer column fails as in AWS (cast in SQL instead)', async () => {
    const sql = `insert into items (name, price) values ('typed', :p)`;
    const refused = await failure(exec({ sql, parameters: [{ name: 'p', value: { stringValue: '1' } }] }));
    expect(refused.error).toBeInstanceOf(DatabaseErrorException);
    expect(refused.message).toMatch(
      /is of type numeric but expression is of type character varying.*SQLState: 42804$/,
    );
  });

  it('refuses a missing parameter as the JDBC driver does, running nothing', async () => {
    const refused = await failure(
      exec({
        sql: `insert into items (name, price) values (:name, :price)`,
        parameters: [{ name: 'name', value: { stringValue: 'half' } }],
      }),
    );
    expect(refused).toMatchObject({ name: 'DatabaseErrorException', status: 400 });
    expect(refused.message).toBe('No value specified for parameter 2.; SQLState: 22023');
    expect((await exec({ sql: `select count(*)::int4 from items where name = 'half'` })).records).toEqual([
      [{ longValue: 0 }],
    ]);
  });

  it('refuses array parameters ("Array parameters are not supported.")', async () => {
    const refused = await failure(
      exec({ sql: 'select :a', parameters: [{ name: 'a', value: { arrayValue: { longValues: [1] } } }] }),
    );
    expect(refused).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: 'Array parameters are not supported.',
    });
  });
});

describe('What Aurora Serverless v2 and provisioned clusters refuse (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html)', () => {
  it('refuses several statements in one call, but not a trailing ; or ; inside quotes, comments or $$', async () => {
    const refused = await failure(exec({ sql: 'select 1; select 2' }));
    expect(refused).toMatchObject({
      name: 'ValidationException',
      status: 400,
      message: "Multistatements aren't supported.",
    });
    const fine = await exec({ sql: `select ';' as a, $$;$$ as b /* ; */ -- ;\n;` });
    expect(fine.records).toEqual([[{ stringValue: ';' }, { stringValue: ';' }]]);
  });

  it('refuses the schema parameter', async () => {
    const refused = await failure(exec({ sql: 'select 1', schema: 'public' }));
    expect(refused).toMatchObject({
      name: 'ValidationException',
      message: "The schema parameter isn't supported",
    });
  });

  it.each([
    ['select pg_advisory_xact_lock(1)', 'The result contains the unsupported data type void.'],
    [`select '1 day'::interval`, 'The result contains the unsupported data type interval.'],
    [`select 1::money`, 'The result contains the unsupported data type money.'],
    [`select point(1, 2)`, 'The result contains the unsupported data type point.'],
    [`select 'a'::"char"`, 'The result contains the unsupported data type "CHAR".'],
    [`select 'pg_class'::regclass`, 'The result contains the unsupported data type regclass.'],
    [`select array[now()]`, 'The result contains the unsupported data type timestamptz.'],
    [`select array[array[1, 2], array[3, 4]]`, 'The result contains a multidimensional array of type _int4.'],
    [`select 'NaN'::float8`, 'NaN and Infinity values are not supported'],
    [`select 'Infinity'::numeric`, 'NaN and Infinity values are not supported'],
  ])('refuses %s with UnsupportedResultException', async (sql, message) => {
    const refused = await failure(exec({ sql }));
    expect(refused.error).toBeInstanceOf(UnsupportedResultException);
    expect(refused).toMatchObject({ status: 400, message });
  });

  it('returns an unsupported type cast to text ("cast the unsupported data type to TEXT")', async () => {
    expect(await one(`select '1 day'::interval::text`)).toEqual({ stringValue: '1 day' });
  });

  it('answers an infinite timestamp with a bare InternalServerErrorException', async () => {
    const refused = await failure(exec({ sql: `select 'infinity'::timestamp` }));
    expect(refused).toMatchObject({ name: 'InternalServerErrorException', status: 500 });
  });
});

describe('SQL errors as DatabaseErrorException (format: https://github.com/cloud-utils/aurora-data-api/issues/53)', () => {
  it.each([
    [
      'select * from no_such_table',
      'ERROR: relation "no_such_table" does not exist; Position: 15; SQLState: 42P01',
    ],
    [
      'select 1 = :t',
      'ERROR: operator does not exist: integer = character varying; Hint: No operator matches the given name and argument types. You might need to add explicit type casts.; Position: 10; SQLState: 42883',
    ],
    [
      `insert into items (name) values ('dup'), ('dup')`,
      'ERROR: duplicate key value violates unique constraint "items_name_key"; SQLState: 23505',
    ],
  ])('%s', async (sql, message) => {
    const refused = await failure(exec({ sql, parameters: [{ name: 't', value: { stringValue: 'x' } }] }));
    expect(refused.error).toBeInstanceOf(DatabaseErrorException);
    expect(refused).toMatchObject({ status: 400, message });
  });
});

describe('BatchExecuteStatement (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BatchExecuteStatement.html)', () => {
  const batch = (sql: string, names: readonly string[]) =>
    client.send(
      new BatchExecuteStatementCommand({
        ...target(),
        sql,
        parameterSets: names.map((name) => [{ name: 'name', value: { stringValue: name } }]),
      }),
    );
  const count = async (pattern: string) =>
    (
      await one(`select count(*)::int4 from items where name like :p`, {
        parameters: [{ name: 'p', value: { stringValue: pattern } }],
      })
    )?.longValue;

  it('runs the statement once per parameter set; generatedFields are empty for Aurora PostgreSQL', async () => {
    const output = await batch('insert into items (name) values (:name)', ['batch-1', 'batch-2', 'batch-3']);
    expect(output.updateResults).toEqual([
      { generatedFields: [] },
      { generatedFields: [] },
      { generatedFields: [] },
    ]);
    expect(await count('batch-%')).toBe(3);
  });

  it('runs nothing for no parameter sets', async () => {
    expect((await batch('insert into items (name) values (:name)', [])).updateResults).toEqual([]);
  });

  it('writes nothing when one set fails (outside a transaction the sets run all or nothing)', async () => {
    const refused = await failure(batch('insert into items (name) values (:name)', ['batch-4', 'batch-1']));
    expect(refused.message).toMatch(
      /duplicate key value violates unique constraint "items_name_key"; SQLState: 23505$/,
    );
    expect(await count('batch-4')).toBe(0);
  });
});

describe('Transactions (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.calling.html)', () => {
  const commit = (transactionId: string) =>
    client.send(
      new CommitTransactionCommand({
        resourceArn: fixture.clusterArn,
        secretArn: fixture.secretArn,
        transactionId,
      }),
    );
  const rollback = (transactionId: string) =>
    client.send(
      new RollbackTransactionCommand({
        resourceArn: fixture.clusterArn,
        secretArn: fixture.secretArn,
        transactionId,
      }),
    );
  const visible = async (name: string) =>
    fixture.admin(
      async (admin) => (await admin.query('select 1 from items where name = $1', [name])).rowCount,
    );

  it('runs statements on the transaction and commits them ("Transaction Committed")', async () => {
    const transactionId = await begin();
    expect(transactionId.length).toBeLessThanOrEqual(192);
    await exec({ sql: `insert into items (name) values ('tx-commit')`, transactionId, database: undefined });
    expect(await visible('tx-commit')).toBe(0);
    expect(await commit(transactionId)).toMatchObject({ transactionStatus: 'Transaction Committed' });
    expect(await visible('tx-commit')).toBe(1);
  });

  it('rolls back ("Rollback Complete"), and forgets ended and unknown transaction ids', async () => {
    const transactionId = await begin();
    await exec({ sql: `insert into items (name) values ('tx-rollback')`, transactionId });
    expect(await rollback(transactionId)).toMatchObject({ transactionStatus: 'Rollback Complete' });
    expect(await visible('tx-rollback')).toBe(0);
    for (const call of [
      commit(transactionId),
      exec({ sql: 'select 1', transactionId }),
      rollback('no-such-id'),
    ]) {
      const refused = await failure(call);
      expect(refused).toMatchObject({ name: 'TransactionNotFoundException', status: 404 });
      expect(refused.message).toMatch(/^Transaction .+ is not found$/);
    }
  });

  it('keeps a transaction open but aborted after a failed statement; its COMMIT reports the failure', async () => {
    const transactionId = await begin();
    await exec({ sql: `insert into items (name) values ('tx-aborted')`, transactionId });
    await failure(exec({ sql: 'select * from no_such_table', transactionId }));
    const next = await failure(exec({ sql: 'select 1', transactionId }));
    expect(next.message).toBe(
      'ERROR: current transaction is aborted, commands ignored until end of transaction block; SQLState: 25P02',
    );
    const committed = await failure(commit(transactionId));
    expect(committed).toMatchObject({ name: 'DatabaseErrorException', status: 400 });
    expect(committed.message).toBe(
      'The database returned ROLLBACK, so the transaction cannot be committed. Transaction failure cause is <<ERROR: relation "no_such_table" does not exist>>; SQLState: 25P02',
    );
    expect(await visible('tx-aborted')).toBe(0);
    expect((await failure(rollback(transactionId))).name).toBe('TransactionNotFoundException');
  });

  it('answers a second call on a busy transaction with "Transaction is still running a query" (data-api.differences.html)', async () => {
    const transactionId = await begin();
    const slow = exec({ sql: 'select pg_sleep(0.5)::text', transactionId });
    await fixture.admin(async (admin) => {
      for (let i = 0; i < 200; i++) {
        const running = await admin.query(
          `select 1 from pg_stat_activity where query like 'select pg_sleep(0.5)%' and state = 'active'`,
        );
        if (running.rowCount) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    const busy = await failure(exec({ sql: 'select 1', transactionId }));
    expect(busy).toMatchObject({
      name: 'DatabaseErrorException',
      message: 'Transaction is still running a query',
    });
    await slow;
    expect(await commit(transactionId)).toMatchObject({ transactionStatus: 'Transaction Committed' });
  });

  it('does not let a call with another secret use the transaction', async () => {
    const other = fixture.addSecret(
      'dapi/other-user',
      JSON.stringify({ username: fixture.role, password: fixture.password }),
    );
    const transactionId = await begin();
    const refused = await failure(
      client.send(
        new ExecuteStatementCommand({ ...target(), secretArn: other.arn, sql: 'select 1', transactionId }),
      ),
    );
    expect(refused.name).toBe('TransactionNotFoundException');
    await rollback(transactionId);
  });
});

describe('Who may call (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html)', () => {
  it('asks for the rds-data action on the cluster, then GetSecretValue on the secret with its tags', async () => {
    requests.length = 0;
    await exec({ sql: 'select 1' }, dataApiClient(handle.endpoint, 'AKIDWHOCALLS'));
    expect(requests).toEqual([
      {
        accessKeyId: 'AKIDWHOCALLS',
        action: 'rds-data:ExecuteStatement',
        resource: fixture.clusterArn,
        context: {},
      },
      {
        accessKeyId: 'AKIDWHOCALLS',
        action: 'secretsmanager:GetSecretValue',
        resource: fixture.secretArn,
        context: {
          'secretsmanager:ResourceTag/TenantId': expect.stringMatching(/^t_/),
          'aws:ResourceTag/TenantId': expect.stringMatching(/^t_/),
        },
      },
    ]);
  });

  it('answers AccessDeniedException (403) for a caller without the rds-data action', async () => {
    const refused = await failure(exec({ sql: 'select 1' }, dataApiClient(handle.endpoint, 'AKIDNODATAAPI')));
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toBe(
      `User: ${DENIED_PRINCIPAL} is not authorized to perform: rds-data:ExecuteStatement on resource: ${fixture.clusterArn} because no identity-based policy allows the rds-data:ExecuteStatement action`,
    );
  });

  it('answers AccessDeniedException when the caller may not read the secret (another tenant’s tag)', async () => {
    const refused = await failure(
      exec({ sql: 'select 1' }, dataApiClient(handle.endpoint, 'AKIDOTHERTENANT')),
    );
    expect(refused).toMatchObject({ name: 'AccessDeniedException', status: 403 });
    expect(refused.message).toContain(`secretsmanager:GetSecretValue on resource: ${fixture.secretArn}`);
  });

  it('refuses an unsigned request with ForbiddenException', async () => {
    const body = JSON.stringify({ ...target(), sql: 'select 1' });
    const answer = await rawCall(handle.endpoint, '/Execute', body, {});
    expect(answer).toMatchObject({ status: 403, errorType: 'ForbiddenException' });
  });

  it('answers an unknown cluster as AWS does: HttpEndpointNotEnabledException', async () => {
    const other = 'arn:aws:rds:us-east-1:000000000000:cluster:gone';
    const refused = await failure(
      client.send(new ExecuteStatementCommand({ ...target(), resourceArn: other, sql: 'select 1' })),
    );
    expect(refused).toMatchObject({
      status: 400,
      message: `HttpEndpoint is not enabled for resource ${other}`,
    });
    expect(refused.name).toBe('HttpEndpointNotEnabledException');
  });

  it.each([
    [
      'an unknown secret',
      'SecretsErrorException',
      () => 'arn:aws:secretsmanager:us-east-1:000000000000:secret:none-AbCdEf',
    ],
    [
      'a secret that is not JSON',
      'InvalidSecretException',
      () => fixture.addSecret('dapi/not-json', 'hunter2').arn,
    ],
    [
      'a secret without a password',
      'InvalidSecretException',
      () => fixture.addSecret('dapi/no-pw', '{"username":"u"}').arn,
    ],
  ])('answers %s with %s', async (_, name, secretArn) => {
    const refused = await failure(
      client.send(new ExecuteStatementCommand({ ...target(), secretArn: secretArn(), sql: 'select 1' })),
    );
    expect(refused).toMatchObject({ name, status: 400 });
  });

  it('answers a wrong password with PostgreSQL’s refusal', async () => {
    const wrong = fixture.addSecret(
      'dapi/wrong-pw',
      JSON.stringify({ username: fixture.role, password: 'wrong' }),
    );
    const refused = await failure(
      client.send(new ExecuteStatementCommand({ ...target(), secretArn: wrong.arn, sql: 'select 1' })),
    );
    expect(refused).toMatchObject({ name: 'DatabaseErrorException', status: 400 });
    expect(refused.message).toBe(
      `FATAL: password authentication failed for user "${fixture.role}"; SQLState: 28P01`,
    );
  });

  it('answers an unknown database, and without `database` uses the user’s name, not the secret’s dbname (https://github.com/aws/aws-cli/issues/8577)', async () => {
    const unknown = await failure(exec({ sql: 'select 1', database: 'no_such_db' }));
    expect(unknown.message).toBe('ERROR: database "no_such_db" does not exist; SQLState: 3D000');
    const defaulted = await failure(exec({ sql: 'select 1', database: undefined }));
    expect(defaulted.message).toBe(`ERROR: database "${fixture.role}" does not exist; SQLState: 3D000`);
  });
});

describe('The wire (restJson1, https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonErrors.html)', () => {
  it('answers an unknown route with UnknownOperationException and unreadable JSON with SerializationException', async () => {
    expect(await rawCall(handle.endpoint, '/ExecuteSql', '{}')).toMatchObject({
      status: 404,
      errorType: 'UnknownOperationException',
    });
    expect(await rawCall(handle.endpoint, '/Execute', '{not json')).toMatchObject({
      status: 400,
      errorType: 'SerializationException',
    });
  });

  it('refuses a missing required member with ValidationException', async () => {
    const answer = await rawCall(
      handle.endpoint,
      '/Execute',
      JSON.stringify({ resourceArn: fixture.clusterArn, sql: 'select 1' }),
    );
    expect(answer).toMatchObject({ status: 400, errorType: 'ValidationException' });
    expect(JSON.parse(answer.text)).toEqual({
      message:
        "1 validation error detected: Value at 'secretArn' failed to satisfy constraint: Member must not be null",
    });
  });
});
