import http from 'node:http';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { startDataApi } from '#infra/local/engines/data-api/index';
import { LOOPBACK } from '#infra/local/engines/ports';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { PooledSqlRunner } from '#shared/data/pooled-sql';
import type { SqlRunner } from '#shared/ports/sql';
import type { Figure } from './report.ts';
import { pg15Missing, startThrowawayPostgres } from './throwaway-postgres.ts';

/**
 * Figure 12 (issue 18, "Measured"): how many tenants one server serves at once before its
 * connection slots run out, silo against pool, with the same `max_connections`. N tenants each make
 * requests in a loop for a while, all at once, through the Data API stand-in (which keeps a small
 * pool of connections per user and database, as the Data API keeps its own): a silo tenant's
 * statements need a connection to its own database as its own role, so N tenants hold N
 * connections; pooled tenants share the pool login role's connections to the one pool database.
 * The server is a throw-away PostgreSQL 15 (trust authentication: the figure counts connections,
 * not logins); the largest N without a refused request is the figure.
 */

type Progress = (line: string) => void;

const CLUSTER_ARN = 'arn:aws:rds:us-east-1:000000000000:cluster:slots';
const secretArn = (name: string) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${name}-AbCdEf`;

interface Tenant {
  readonly sql: SqlRunner;
  readonly statement: string;
}

/** N tenants' loops at once for `ms`; how many requests were refused, and how many ran. */
async function load(
  tenants: readonly Tenant[],
  ms: number,
): Promise<{ refused: number; ran: number; reason?: string }> {
  const until = performance.now() + ms;
  let refused = 0;
  let ran = 0;
  let reason: string | undefined;
  await Promise.all(
    tenants.map(async (tenant) => {
      while (performance.now() < until) {
        try {
          await tenant.sql.query(tenant.statement);
          ran += 1;
        } catch (error) {
          refused += 1;
          reason ??= error instanceof Error ? error.message : String(error);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }),
  );
  return { refused, ran, ...(reason ? { reason } : {}) };
}

export async function measureConnectionSlots(
  options: { readonly maxConnections: number; readonly steps: readonly number[]; readonly seconds: number },
  progress: Progress,
): Promise<Figure[]> {
  const missing = await pg15Missing();
  if (missing) {
    progress(`connection slots: skipped (${missing})`);
    return [];
  }
  const server = await startThrowawayPostgres({ max_connections: String(options.maxConnections) });
  const secrets = new Map<
    string,
    { arn: string; name: string; tags: Record<string, string>; value: string }
  >();
  const addSecret = (name: string, username: string) => {
    const arn = secretArn(name);
    secrets.set(arn, { arn, name, tags: {}, value: JSON.stringify({ username, password: 'trusted' }) });
    return arn;
  };
  const dataApi = await startDataApi({
    host: LOOPBACK,
    port: 0,
    postgres: { host: server.socketDir, port: server.port },
    clusterArn: CLUSTER_ARN,
    secrets: { lookup: async (arn) => secrets.get(arn) ?? null },
  });
  const client = new RDSDataClient({
    region: 'us-east-1',
    endpoint: dataApi.endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    maxAttempts: 1,
    // A socket per simulated tenant (as each Lambda instance has its own): with the SDK's default
    // of 50, transactions waiting for a database connection would hold every socket, and the ones
    // holding the connections could not send their next statement.
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: 1024 }) },
  });
  const admin = new pg.Client(server.connection('postgres'));
  await admin.connect();
  try {
    const most = Math.max(...options.steps);
    progress(
      `connection slots: ${most} silo databases and ${most} pooled schemas, max_connections ${options.maxConnections}`,
    );
    await admin.query(`create role pool_app login noinherit`);
    await admin.query('create database tenantry_pool');
    const poolAdmin = new pg.Client(server.connection('tenantry_pool'));
    await poolAdmin.connect();
    const silo: Tenant[] = [];
    const pool: Tenant[] = [];
    const poolSecret = addSecret('pool', 'pool_app');
    try {
      for (let i = 0; i < most; i++) {
        await admin.query(`create role silo_${i} login`);
        await admin.query(`create database silo_${i} owner silo_${i}`);
        await poolAdmin.query(`create role pooled_${i} nologin`);
        await poolAdmin.query(`grant pooled_${i} to pool_app`);
        await poolAdmin.query(`create schema db_${i} authorization pooled_${i}`);
        silo.push({
          sql: new DataApiSqlRunner({
            client,
            resourceArn: CLUSTER_ARN,
            secretArn: addSecret(`silo-${i}`, `silo_${i}`),
            database: `silo_${i}`,
          }),
          statement: 'select count(*) as n from pg_class',
        });
        pool.push({
          sql: new PooledSqlRunner(
            new DataApiSqlRunner({
              client,
              resourceArn: CLUSTER_ARN,
              secretArn: poolSecret,
              database: 'tenantry_pool',
            }),
            { role: `pooled_${i}`, schema: `db_${i}` },
          ),
          statement: 'select count(*) as n from pg_class',
        });
      }
    } finally {
      await poolAdmin.end();
    }
    const served = { silo: 0, pool: 0 };
    const notes: string[] = [];
    for (const mode of ['silo', 'pool'] as const) {
      for (const n of options.steps) {
        const tenants = (mode === 'silo' ? silo : pool).slice(0, n);
        const result = await load(tenants, options.seconds * 1000);
        const connections = Number(
          (
            await admin.query(
              `select count(*)::int as n from pg_stat_activity where backend_type = 'client backend'`,
            )
          ).rows[0].n,
        );
        progress(
          `connection slots: ${mode}, ${n} tenants: ${result.ran} requests ran, ${result.refused} refused, ${connections} connections open`,
        );
        if (result.refused > 0) {
          notes.push(`${mode} at ${n} tenants: ${result.refused} refused (${result.reason?.slice(0, 80)})`);
          break;
        }
        served[mode] = n;
      }
      // Let the stand-in's idle connections close (5 s) before the other mode.
      await new Promise((resolve) => setTimeout(resolve, 6_000));
    }
    return [
      {
        group: '12. Connection slots',
        name: `pooled tenants served at once by one server (max_connections ${options.maxConnections})`,
        value: served.pool,
        unit: 'tenants',
        baseline: { name: 'silo tenants served at once by the same server', value: served.silo },
        ratio: served.silo > 0 ? Number((served.pool / served.silo).toFixed(2)) : 0,
        note: `steps ${options.steps.join(', ')}; each tenant requests in a loop for ${options.seconds} s, all at once; the pool figure is the largest step tried when nothing was refused; ${notes.join('; ') || 'nothing refused'}; no budget set`,
      },
    ];
  } finally {
    await admin.end().catch(() => {});
    client.destroy();
    await dataApi.stop();
    await server.stop();
  }
}
