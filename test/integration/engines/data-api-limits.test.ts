import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  type RDSDataClient,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type DataApiHandle,
  DEFAULT_DATA_API_LIMITS,
  startDataApi,
} from '#infra/local/engines/data-api/index';
import {
  type DataApiFixture,
  dataApiClient,
  dataApiFixture,
  failure,
  fixtureCalls,
  rawCall,
} from '../../support/data-api-fixture.ts';

/*
 * The Data API's limits and lifetimes at their edges: the limit itself passes, one more is
 * refused. Lifetimes run on an injected clock; the statement timeout on a tiny configured limit.
 */
const clock = { now: Date.UTC(2024, 0, 1) };
const now = () => clock.now;
const MINUTE = 60_000;

let fixture: DataApiFixture;
let handle: DataApiHandle;
let client: RDSDataClient;

const { target, exec, begin } = fixtureCalls(
  () => fixture,
  () => client,
);
const executeBody = (sql: string) => JSON.stringify({ ...target(), sql });

beforeAll(async () => {
  fixture = await dataApiFixture('dapi_limits');
  ({ handle, client } = await fixture.start({ now }));
  await exec({ sql: 'create table log (v text)' });
});

afterAll(async () => {
  await fixture?.cleanup();
});

describe('Sizes (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html)', () => {
  it('takes SQL of 65536 characters and refuses 65537 (SqlStatement max in the API model)', async () => {
    const sql = (length: number) => `select 1 --${'x'.repeat(length - 11)}`;
    expect(DEFAULT_DATA_API_LIMITS.sqlLength).toBe(65_536);
    expect((await exec({ sql: sql(65_536) })).records).toEqual([[{ longValue: 1 }]]);
    const refused = await failure(exec({ sql: sql(65_537) }));
    expect(refused).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(refused.message).toContain('Member must have length less than or equal to 65536');
  });

  it('returns a response of exactly the response limit and refuses one byte more ("The result exceeds the size limit")', async () => {
    const sql = (n: number) => `select repeat('x', ${n}) as v`;
    const measured = (await rawCall(handle.endpoint, '/Execute', executeBody(sql(1000)))).bytes;
    const limited = await fixture.start({ limits: { responseBytes: measured } });
    expect((await exec({ sql: sql(1000) }, limited.client)).records?.[0]?.[0]?.stringValue).toHaveLength(
      1000,
    );
    const refused = await failure(exec({ sql: sql(1001) }, limited.client));
    expect(refused).toMatchObject({ name: 'UnsupportedResultException', status: 400 });
    expect(refused.message).toBe(`The result exceeds the size limit ${measured} bytes.`);
  });

  it('refuses more than 1 MiB of rows by default, in the wording seen from Aurora', async () => {
    const refused = await failure(exec({ sql: `select repeat('x', 60000) from generate_series(1, 20)` }));
    expect(refused).toMatchObject({
      name: 'UnsupportedResultException',
      message: 'The result exceeds the size limit 1 MB.',
    });
    const fits = await exec({ sql: `select repeat('x', 60000) from generate_series(1, 16)` });
    expect(fits.records).toHaveLength(16);
  });

  it('takes a row of exactly the row limit and refuses one byte more (a row is its fields as JSON)', async () => {
    const rowBytes = JSON.stringify([{ stringValue: 'x'.repeat(500) }]).length;
    const limited = await fixture.start({ limits: { rowBytes } });
    expect((await exec({ sql: `select repeat('x', 500)` }, limited.client)).records).toHaveLength(1);
    const refused = await failure(exec({ sql: `select repeat('x', 501)` }, limited.client));
    expect(refused).toMatchObject({ name: 'UnsupportedResultException', status: 400 });
    expect(refused.message).toBe(`A row of the result exceeds the size limit of ${rowBytes} bytes.`);
  });

  it('refuses a row over 64 KB by default even when the whole response is small', async () => {
    expect((await exec({ sql: `select repeat('x', 65000)` })).records).toHaveLength(1);
    expect((await failure(exec({ sql: `select repeat('x', 66000)` }))).name).toBe(
      'UnsupportedResultException',
    );
  });

  it('takes formattedRecords of exactly its limit and refuses one byte more (API_ExecuteStatement.html: 10 MB)', async () => {
    const formattedRecordsBytes = '[{"v":""}]'.length + 300;
    const limited = await fixture.start({ limits: { formattedRecordsBytes } });
    const json = (n: number) =>
      exec({ sql: `select repeat('x', ${n}) as v`, formatRecordsAs: 'JSON' }, limited.client);
    expect((await json(300)).formattedRecords).toHaveLength(formattedRecordsBytes);
    expect((await failure(json(301))).name).toBe('UnsupportedResultException');
  });

  it('takes a request of exactly the request limit and refuses one byte more (API_BatchExecuteStatement.html: 4 MiB)', async () => {
    expect(DEFAULT_DATA_API_LIMITS.requestBytes).toBe(4 * 1024 * 1024);
    const body = executeBody('select 1');
    const limited = await fixture.start({ limits: { requestBytes: Buffer.byteLength(body) } });
    expect(await rawCall(limited.handle.endpoint, '/Execute', body)).toMatchObject({ status: 200 });
    const larger = await rawCall(limited.handle.endpoint, '/Execute', `${body} `);
    expect(larger).toMatchObject({ status: 400, errorType: 'ValidationException' });
  });
});

describe('Statement timeout (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html)', () => {
  const logged = async (value: string) =>
    fixture.admin(async (admin) => (await admin.query('select 1 from log where v = $1', [value])).rowCount);
  const backendIdle = (pid: number) =>
    vi.waitFor(
      async () => {
        const state = await fixture.admin((admin) =>
          admin.query('select state from pg_stat_activity where pid = $1', [pid]),
        );
        expect(state.rows[0]?.state ?? 'gone').not.toBe('active');
      },
      { timeout: 10_000, interval: 20 },
    );

  it('cancels a statement that runs past the limit and answers StatementTimeoutException with its dbConnectionId', async () => {
    expect(DEFAULT_DATA_API_LIMITS.statementTimeoutMs).toBe(45_000);
    const limited = await fixture.start({ limits: { statementTimeoutMs: 200 } });
    const refused = await failure(
      exec({ sql: `insert into log select 'cancelled' from pg_sleep(2)` }, limited.client),
    );
    expect(refused).toMatchObject({
      name: 'StatementTimeoutException',
      status: 400,
      message: 'Request timed out',
    });
    const pid = (refused.error as { dbConnectionId?: number }).dbConnectionId;
    expect(pid).toEqual(expect.any(Number));
    await backendIdle(pid as number);
    expect(await logged('cancelled')).toBe(0);
    expect((await exec({ sql: 'select pg_sleep(0.01)::text' }, limited.client)).records).toHaveLength(1);
  });

  it('with continueAfterTimeout answers the timeout but lets the statement finish', async () => {
    const limited = await fixture.start({ limits: { statementTimeoutMs: 200 } });
    const refused = await failure(
      exec(
        { sql: `insert into log select 'continued' from pg_sleep(0.6)`, continueAfterTimeout: true },
        limited.client,
      ),
    );
    expect(refused.name).toBe('StatementTimeoutException');
    await backendIdle((refused.error as { dbConnectionId?: number }).dbConnectionId as number);
    expect(await logged('continued')).toBe(1);
  });

  it('keeps a transaction busy while a continued statement runs, then usable', async () => {
    const limited = await fixture.start({ limits: { statementTimeoutMs: 200 } });
    const transactionId = await begin(limited.client);
    const refused = await failure(
      exec(
        {
          sql: `insert into log select 'in-tx' from pg_sleep(0.6)`,
          transactionId,
          continueAfterTimeout: true,
        },
        limited.client,
      ),
    );
    expect(refused.name).toBe('StatementTimeoutException');
    const busy = await failure(exec({ sql: 'select 1', transactionId }, limited.client));
    expect(busy.message).toBe('Transaction is still running a query');
    await backendIdle((refused.error as { dbConnectionId?: number }).dbConnectionId as number);
    await vi.waitFor(
      async () =>
        expect((await exec({ sql: 'select 1', transactionId }, limited.client)).records).toHaveLength(1),
      {
        timeout: 5_000,
        interval: 20,
      },
    );
    await limited.client.send(
      new CommitTransactionCommand({
        resourceArn: fixture.clusterArn,
        secretArn: fixture.secretArn,
        transactionId,
      }),
    );
    expect(await logged('in-tx')).toBe(1);
  });
});

describe('Transaction lifetime (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html)', () => {
  const idleInTransaction = () =>
    fixture.admin(
      async (admin) =>
        (
          await admin.query(
            `select 1 from pg_stat_activity where usename = $1 and state like 'idle in transaction%'`,
            [fixture.role],
          )
        ).rowCount,
    );

  it('keeps a transaction unused for exactly three minutes and ends one unused for a millisecond more', async () => {
    expect(DEFAULT_DATA_API_LIMITS.transactionIdleMs).toBe(3 * MINUTE);
    const kept = await begin();
    clock.now += 3 * MINUTE;
    await exec({ sql: `insert into log values ('idle-kept')`, transactionId: kept });
    clock.now += 3 * MINUTE + 1;
    const refused = await failure(exec({ sql: 'select 1', transactionId: kept }));
    expect(refused).toMatchObject({ name: 'TransactionNotFoundException', status: 404 });
    expect(
      await fixture.admin(
        async (admin) => (await admin.query(`select 1 from log where v = 'idle-kept'`)).rowCount,
      ),
    ).toBe(0);
    expect(await idleInTransaction()).toBe(0);
  });

  it('ends a transaction past its maximum lifetime even while it is in use', async () => {
    expect(DEFAULT_DATA_API_LIMITS.transactionMaxMs).toBe(24 * 60 * MINUTE);
    const limited = await fixture.start({ now, limits: { transactionMaxMs: 10 * MINUTE } });
    const transactionId = await begin(limited.client);
    for (let minute = 2; minute <= 10; minute += 2) {
      clock.now += 2 * MINUTE;
      await exec({ sql: 'select 1', transactionId }, limited.client);
    }
    clock.now += 1;
    expect((await failure(exec({ sql: 'select 1', transactionId }, limited.client))).name).toBe(
      'TransactionNotFoundException',
    );
  });

  it('rolls back an abandoned transaction on its own, giving its connection back', async () => {
    const limited = await fixture.start({ now, limits: { sweepIntervalMs: 20 } });
    await begin(limited.client);
    expect(await idleInTransaction()).toBe(1);
    clock.now += 3 * MINUTE + 1;
    await vi.waitFor(async () => expect(await idleInTransaction()).toBe(0), { timeout: 5_000, interval: 20 });
  });
});

describe('A paused cluster (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html)', () => {
  it('answers every call DatabaseResumingException while resuming, then works again', async () => {
    const transactionId = await begin();
    handle.pause(10);
    const message = `The Aurora DB instance ${fixture.clusterArn} is resuming after being auto-paused. Please wait a few seconds and try again.`;
    for (const call of [exec({ sql: 'select 1' }), begin(), exec({ sql: 'select 1', transactionId })]) {
      expect(await failure(call)).toMatchObject({ name: 'DatabaseResumingException', status: 400, message });
    }
    clock.now += 10_000;
    expect((await exec({ sql: 'select 1', transactionId })).records).toEqual([[{ longValue: 1 }]]);
    await client.send(
      new CommitTransactionCommand({
        resourceArn: fixture.clusterArn,
        secretArn: fixture.secretArn,
        transactionId,
      }),
    );
  });

  it('pauses through the control route POST /_tenantry/pause', async () => {
    const answer = await rawCall(handle.endpoint, '/_tenantry/pause', JSON.stringify({ seconds: 5 }), {});
    expect(answer.status).toBe(200);
    expect((await failure(exec({ sql: 'select 1' }))).name).toBe('DatabaseResumingException');
    clock.now += 5_000;
    expect((await exec({ sql: 'select 1' })).records).toHaveLength(1);
    expect(
      await rawCall(handle.endpoint, '/_tenantry/pause', JSON.stringify({ seconds: 'x' }), {}),
    ).toMatchObject({
      status: 400,
    });
  });
});

describe('Connections', () => {
  it('release(database) closes pooled connections and open transactions so DROP DATABASE succeeds', async () => {
    const scratch = `${fixture.database}_scratch`;
    await fixture.admin(
      (admin) => admin.query(`create database ${scratch} owner ${fixture.role}`),
      'postgres',
    );
    await exec({ sql: 'select 1', database: scratch });
    await client.send(new BeginTransactionCommand({ ...target(), database: scratch }));
    await handle.release(scratch);
    await fixture.admin((admin) => admin.query(`drop database ${scratch}`), 'postgres');
  });

  it('answers DatabaseUnavailableException (504) when PostgreSQL cannot be reached', async () => {
    const down = await startDataApi({
      host: '127.0.0.1',
      port: 0,
      postgres: { host: '127.0.0.1', port: 1 },
      clusterArn: fixture.clusterArn,
      secrets: { lookup: async (arn) => fixture.secrets.get(arn) ?? null },
    });
    const downClient = dataApiClient(down.endpoint);
    try {
      expect(await failure(exec({ sql: 'select 1' }, downClient))).toMatchObject({
        name: 'DatabaseUnavailableException',
        status: 504,
      });
    } finally {
      downClient.destroy();
      await down.stop();
    }
  });

  it('stop() ends open transactions and answers no more calls', async () => {
    const stopping = await startDataApi({
      host: '127.0.0.1',
      port: 0,
      postgres: { host: fixture.postgresHost, port: fixture.postgresPort },
      clusterArn: fixture.clusterArn,
      secrets: { lookup: async (arn) => fixture.secrets.get(arn) ?? null },
    });
    const stoppingClient = dataApiClient(stopping.endpoint);
    const transactionId = await begin(stoppingClient);
    const pid = (await exec({ sql: 'select pg_backend_pid()', transactionId }, stoppingClient))
      .records?.[0]?.[0]?.longValue;
    stoppingClient.destroy();
    await stopping.stop();
    await vi.waitFor(
      async () => {
        const left = await fixture.admin((admin) =>
          admin.query('select 1 from pg_stat_activity where pid = $1', [pid]),
        );
        expect(left.rowCount).toBe(0);
      },
      { timeout: 5_000, interval: 20 },
    );
    await expect(rawCall(stopping.endpoint, '/Execute', executeBody('select 1'))).rejects.toThrow();
  });
});
