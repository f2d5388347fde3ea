import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import autocannon from 'autocannon';
import pg from 'pg';
import type { LocalClient } from '#infra/local/client';
import type { PlatformInfo } from '#infra/local/platform-info';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { readTable } from '#shared/data/catalog';
import { rowsQuerySchema } from '#shared/data/row-query';
import { rowPageStatement } from '#shared/data/row-statements';
import { rewriteNamedParameters } from '#shared/ports/sql';
import { databaseNameFor } from '#shared/provisioning/names';
import { type Actor, newTenant } from '../support/actors.ts';
import { tenantSecretOf } from '../support/tenant-secrets.ts';
import type { Figure } from './report.ts';
import { median, round } from './stats.ts';

type Progress = (line: string) => void;

const TABLE = 'bench_items';

async function tenantCredentials(info: PlatformInfo, tenantId: string) {
  const secret = await tenantSecretOf(info, tenantId);
  if (!secret) throw new Error('tenant secret not found');
  return secret;
}

/** A bare `node:http` server answering every request with one page of `rows()`, as the route shapes it. */
async function servePage(
  rows: () => Promise<readonly unknown[]>,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((_request, response) => {
    rows()
      .then((page) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ items: page.slice(0, 50), nextCursor: null }));
      })
      .catch(() => {
        response.writeHead(500);
        response.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function load(url: string, headers: Record<string, string>, seconds: number) {
  const result = await autocannon({ url, headers, connections: 8, duration: seconds });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    errors: result.non2xx + result.errors,
  };
}

/**
 * Figure 3: `GET …/rows?limit=50` through the local gateway, JWT check, middleware and tenant
 * checks, against a bare `node:http` server running the same page statement with `pg` as the
 * tenant role, both under the same autocannon load. Plus row inserts through the API against the
 * same inserts straight with `pg`.
 */
/** The id of the tenant's primary database. */
export async function primaryDatabase(owner: Actor, tenantId: string): Promise<string> {
  const databases = await owner.call('GET', `/tenants/${tenantId}/databases`);
  const databaseId = (databases.body as { items: { id: string; isPrimary: boolean }[] }).items.find(
    (d) => d.isPrimary,
  )?.id;
  if (!databaseId) throw new Error('no primary database');
  return databaseId;
}

/** The benchmarks' table: a label, an amount and a quantity. */
export async function createItemsTable(owner: Actor, tablesPath: string, name: string): Promise<void> {
  const created = await owner.call('POST', tablesPath, {
    name,
    columns: [
      { name: 'label', type: 'text', nullable: false },
      { name: 'amount', type: 'numeric(12,2)' },
      { name: 'quantity', type: 'integer' },
    ],
  });
  if (created.status !== 201)
    throw new Error(`create table: ${created.status} ${JSON.stringify(created.body)}`);
}

/** Row `i` of the benchmarks' table. */
export const itemRow = (i: number) => ({
  label: `item ${i}`,
  amount: `${(i % 1000) + 0.5}`,
  quantity: i % 17,
});

export async function measureRows(
  info: PlatformInfo,
  owner: Actor,
  tenantId: string,
  options: { rows: number; seconds: number; runs: number; withConsumers: boolean },
  progress: Progress,
): Promise<Figure[]> {
  const setting = options.withConsumers ? 'consumers on the same 2 cores' : 'consumers elsewhere, as in AWS';
  const databaseId = await primaryDatabase(owner, tenantId);
  const base = `/tenants/${tenantId}/databases/${databaseId}/tables`;
  await createItemsTable(owner, base, TABLE);

  const credentials = await tenantCredentials(info, tenantId);
  const connection = {
    host: info.postgres.host,
    port: info.postgres.port,
    user: credentials.username,
    password: credentials.password,
    database: databaseNameFor(databaseId),
  };

  // Inserts: through the API (8 at a time) and straight with pg (8 connections), same rows.
  const row = itemRow;
  const apiStarted = performance.now();
  for (let i = 0; i < options.rows; i += 8) {
    const batch = Array.from({ length: Math.min(8, options.rows - i) }, (_, j) => row(i + j));
    const responses = await Promise.all(
      batch.map((body) => owner.call('POST', `${base}/${TABLE}/rows`, body)),
    );
    const failed = responses.find((r) => r.status !== 201);
    if (failed) throw new Error(`insert: ${failed.status} ${JSON.stringify(failed.body)}`);
  }
  const apiInsert = performance.now() - apiStarted;
  const direct = new pg.Pool({ ...connection, max: 8 });
  // An idle client cut by the platform's shutdown must not crash the benchmark (pg emits 'error').
  direct.on('error', () => {});
  const directStarted = performance.now();
  for (let i = 0; i < options.rows; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, options.rows - i) }, (_, j) => {
        const r = row(options.rows + i + j);
        return direct.query(
          `insert into ${TABLE} (label, amount, quantity) values ($1, $2::numeric, $3) returning *`,
          [r.label, r.amount, r.quantity],
        );
      }),
    );
  }
  const directInsert = performance.now() - directStarted;
  const apiRate = options.rows / (apiInsert / 1000);
  const directRate = options.rows / (directInsert / 1000);
  progress(`rows: ${round(apiRate, 0)} inserts/s through the API, ${round(directRate, 0)} direct`);

  // The same page statement the handler runs, served bare.
  const runner = new PgSqlRunner({ ...connection, max: 8 });
  const table = await readTable(runner, TABLE);
  if (!table) throw new Error('table not readable');
  const statement = rowPageStatement(table, rowsQuerySchema.parse({ limit: '50' }));
  const order: string[] = [];
  const text = rewriteNamedParameters(statement.sql, (name) => {
    const index = order.includes(name) ? order.indexOf(name) : order.push(name) - 1;
    return `$${index + 1}`;
  });
  const values = order.map((name) => statement.params[name]);
  const bare = await servePage(async () => (await direct.query(text, values)).rows);

  // The same statement through the Data API adapter on the stand-in, as the handler runs it, with
  // the tenant's secret: what the stand-in (HTTP, secret lookup, IAM, JSON records) costs on its own.
  const dataApiClient = new RDSDataClient({
    region: info.region,
    endpoint: info.dataApi.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
  });
  const viaDataApi = new DataApiSqlRunner({
    client: dataApiClient,
    resourceArn: info.dataApi.clusterArn,
    secretArn: credentials.arn,
    database: databaseNameFor(databaseId),
  });
  const dataApiServer = await servePage(() => viaDataApi.query(statement.sql, statement.params));
  const apiUrl = `${info.apiUrl}${base}/${TABLE}/rows?limit=50`;
  const auth = { authorization: `Bearer ${owner.token}` };

  const api: Awaited<ReturnType<typeof load>>[] = [];
  const baseline: Awaited<ReturnType<typeof load>>[] = [];
  const dataApi: Awaited<ReturnType<typeof load>>[] = [];
  try {
    await load(apiUrl, auth, 1);
    await load(bare.url, {}, 1);
    await load(dataApiServer.url, {}, 1);
    for (let i = 0; i < options.runs; i++) {
      api.push(await load(apiUrl, auth, options.seconds));
      baseline.push(await load(bare.url, {}, options.seconds));
      dataApi.push(await load(dataApiServer.url, {}, options.seconds));
    }
  } finally {
    await bare.close();
    await dataApiServer.close();
    dataApiClient.destroy();
    await direct.end();
    await runner.close();
  }
  const errors = [...api, ...dataApi].reduce((sum, r) => sum + r.errors, 0);
  if (errors > 0) throw new Error(`${errors} failed requests during the rows load`);
  const p50 = median(api.map((r) => r.p50));
  const p99 = median(api.map((r) => r.p99));
  const rps = median(api.map((r) => r.rps));
  const b50 = median(baseline.map((r) => r.p50));
  const b99 = median(baseline.map((r) => r.p99));
  const brps = median(baseline.map((r) => r.rps));
  const d50 = median(dataApi.map((r) => r.p50));
  const drps = median(dataApi.map((r) => r.rps));
  progress(
    `rows page (${setting}): p50 ${p50} ms (bare ${b50}, Data API alone ${d50}), p99 ${p99} ms (bare ${b99}), ${round(rps, 0)} req/s (bare ${round(brps, 0)}, Data API alone ${round(drps, 0)})`,
  );
  const ratio = b50 > 0 ? p50 / b50 : Number.POSITIVE_INFINITY;
  return [
    {
      group: '3. Rows page',
      name: `GET …/rows?limit=50, p50, 8 connections (${setting})`,
      value: p50,
      unit: 'ms',
      baseline: { name: 'bare node:http + pg, same statement', value: b50 },
      ratio: round(ratio, 2),
      ...(options.withConsumers ? {} : { budget: { text: 'p50 ratio ≤ 1.3 (issue 14)', met: ratio <= 1.3 } }),
      note: options.withConsumers
        ? 'handlers on the Data API stand-in, every call IAM-judged; every request also feeds the audit, usage and metric consumers and the DynamoDB API on this machine'
        : 'handlers on the Data API stand-in, every call IAM-judged; every request still publishes its audit, usage and metric events (one PutEvents)',
    },
    {
      group: '3. Rows page',
      name: `the same statement through the Data API adapter and stand-in alone, p50 (${setting})`,
      value: d50,
      unit: 'ms',
      baseline: { name: 'bare node:http + pg, same statement', value: b50 },
      ratio: round(b50 > 0 ? d50 / b50 : 0, 2),
      note: 'what the Data API stand-in (HTTP, secret lookup, IAM, JSON records) costs without the gateway and handler',
    },
    {
      group: '3. Rows page',
      name: `GET …/rows?limit=50, p99 (${setting})`,
      value: p99,
      unit: 'ms',
      baseline: { name: 'bare node:http + pg, same statement', value: b99 },
      ratio: round(b99 > 0 ? p99 / b99 : 0, 2),
    },
    {
      group: '3. Rows page',
      name: `GET …/rows?limit=50, throughput (${setting})`,
      value: round(rps, 0),
      unit: 'req/s',
      baseline: { name: 'bare node:http + pg, same statement', value: round(brps, 0) },
      ratio: round(rps / brps, 2),
    },
    {
      group: '3. Rows insert',
      name: `${options.rows} inserts through POST …/rows, 8 at a time (${setting})`,
      value: round(apiRate, 0),
      unit: 'rows/s',
      baseline: { name: 'the same inserts straight with pg', value: round(directRate, 0) },
      ratio: round(apiRate / directRate, 2),
    },
  ];
}

/**
 * A tenant's first rows page on a warm function, against the same function's next pages for that
 * tenant: the first one also assumes the tenant-access role for the tenant (STS AssumeRole) and
 * makes the tenant's Data API client; the next ones reuse both (issue 12). The function has
 * already served another tenant, so module loading and the function's own clients are not in it.
 */
export async function measureColdTenant(owner: Actor, progress: Progress, repeats = 20): Promise<Figure[]> {
  const first: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { tenantId } = await newTenant(owner, `Cold tenant ${i}`);
    const databaseId = await primaryDatabase(owner, tenantId);
    const base = `/tenants/${tenantId}/databases/${databaseId}/tables`;
    const created = await owner.call('POST', base, {
      name: TABLE,
      columns: [{ name: 'label', type: 'text', nullable: false }],
    });
    if (created.status !== 201) throw new Error(`create table: ${created.status}`);
    const page = async () => {
      const started = performance.now();
      const response = await owner.call('GET', `${base}/${TABLE}/rows?limit=50`);
      if (response.status !== 200) throw new Error(`rows: ${response.status}`);
      return performance.now() - started;
    };
    first.push(await page());
    const times: number[] = [];
    for (let j = 0; j < repeats; j++) times.push(await page());
    warm.push(median(times));
  }
  const cold = round(median(first), 1);
  const steady = round(median(warm), 1);
  progress(`rows: a tenant's first page ${cold} ms, its next pages ${steady} ms`);
  return [
    {
      group: '3. Rows page',
      name: "a tenant's first rows page on a warm function (tenant session assumed), one request",
      value: cold,
      unit: 'ms',
      baseline: { name: "the same tenant's next pages (session cached), median", value: steady },
      ratio: round(steady > 0 ? cold / steady : 0, 2),
      note: 'median of 3 fresh tenants; the difference is one STS AssumeRole and a new Data API client per tenant and function',
    },
  ];
}

/**
 * Figure 3c (issue 14): `rows` rows through `POST …/rows/batch`, `perRequest` a request and
 * `concurrency` requests at once, under `Prefer: return=minimal` (the answer is the ids, as a bulk
 * loader wants it) and again with every row read back, against the same rows inserted straight
 * with `pg` as the tenant role in multi-row INSERTs of the same size on as many connections. All
 * load into the same table, so the later runs also pay the index growth of the earlier ones.
 */
export async function measureBulk(
  info: PlatformInfo,
  client: LocalClient,
  owner: Actor,
  tenantId: string,
  options: { rows: number; perRequest: number; concurrency: number },
  progress: Progress,
): Promise<Figure[]> {
  const databaseId = await primaryDatabase(owner, tenantId);
  const table = 'bench_bulk';
  const base = `/tenants/${tenantId}/databases/${databaseId}/tables`;
  await createItemsTable(owner, base, table);
  type BulkRow = ReturnType<typeof itemRow>;
  const row = itemRow;
  const chunks = (offset: number) =>
    Array.from({ length: Math.ceil(options.rows / options.perRequest) }, (_, c) =>
      Array.from({ length: Math.min(options.perRequest, options.rows - c * options.perRequest) }, (_, j) =>
        row(offset + c * options.perRequest + j),
      ),
    );
  /** Runs `send` over the chunks with `concurrency` at once, printing progress every fifth. */
  const drive = async (label: string, all: BulkRow[][], send: (rows: BulkRow[]) => Promise<void>) => {
    let next = 0;
    let done = 0;
    const step = Math.max(1, Math.floor(all.length / 5));
    const worker = async () => {
      while (next < all.length) {
        const chunk = all[next++] as BulkRow[];
        await send(chunk);
        done++;
        if (done % step === 0)
          progress(`bulk ${label}: ${done * options.perRequest} of ${options.rows} rows`);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    return performance.now() - started;
  };
  const viaApi = (headers: Record<string, string>) => async (rows: BulkRow[]) => {
    const response = await client.call('POST', `${base}/${table}/rows/batch`, {
      token: owner.token,
      body: { rows },
      headers,
    });
    if (response.status !== 201)
      throw new Error(`batch: ${response.status} ${JSON.stringify(response.body)}`);
  };

  const minimalMs = await drive(
    'through the API (return=minimal)',
    chunks(0),
    viaApi({ prefer: 'return=minimal' }),
  );
  const fullMs = await drive('through the API (rows read back)', chunks(options.rows), viaApi({}));
  const credentials = await tenantCredentials(info, tenantId);
  const direct = new pg.Pool({
    host: info.postgres.host,
    port: info.postgres.port,
    user: credentials.username,
    password: credentials.password,
    database: databaseNameFor(databaseId),
    max: options.concurrency,
  });
  direct.on('error', () => {});
  let directMs: number;
  try {
    directMs = await drive('straight with pg', chunks(2 * options.rows), async (rows) => {
      const values = rows.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}::numeric, $${i * 3 + 3})`).join(', ');
      await direct.query(
        `insert into ${table} (label, amount, quantity) values ${values}`,
        rows.flatMap((r) => [r.label, r.amount, r.quantity]),
      );
    });
  } finally {
    await direct.end();
  }
  const rate = (ms: number) => options.rows / (ms / 1000);
  const [minimalRate, fullRate, directRate] = [rate(minimalMs), rate(fullMs), rate(directMs)];
  progress(
    `bulk: ${round(minimalRate, 0)} rows/s through the API (return=minimal), ${round(fullRate, 0)} with rows read back, ${round(directRate, 0)} straight with pg`,
  );
  const baseline = {
    name: `the same rows straight with pg, multi-row INSERTs of ${options.perRequest}, ${options.concurrency} connections`,
    value: round(directRate, 0),
  };
  const setting = `${options.perRequest} a request, ${options.concurrency} at once (consumers elsewhere, as in AWS)`;
  return [
    {
      group: '3. Rows insert',
      name: `${options.rows} rows through POST …/rows/batch with Prefer: return=minimal, ${setting}`,
      value: round(minimalRate, 0),
      unit: 'rows/s',
      baseline,
      ratio: round(minimalRate / directRate, 2),
      budget: { text: 'ratio ≥ 0.5', met: minimalRate / directRate >= 0.5 },
      note: 'each request: the JSON body checked row by row against the table, one transaction of one INSERT through the Data API stand-in, one audit record for the batch; the answer is the ids',
    },
    {
      group: '3. Rows insert',
      name: `${options.rows} rows through POST …/rows/batch, every row read back, ${setting}`,
      value: round(fullRate, 0),
      unit: 'rows/s',
      baseline,
      ratio: round(fullRate / directRate, 2),
      note: 'as above, plus one SELECT of the inserted rows in the same transaction and their JSON in the answer',
    },
  ];
}
