import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DataApiClusters } from '#shared/adapters/data-api-clusters';
import { DataApiSqlRunner } from '#shared/adapters/data-api-sql';
import { TenantSessions } from '#shared/adapters/tenant-sessions';
import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import { openTenantDatabase } from '#shared/data/tenant-database';
import { sqlFailureOf } from '#shared/ports/sql';
import { roleNameFor } from '#shared/provisioning/names';
import { clientFor, newActor, newTenant } from '../support/actors.ts';
import { withPg } from '../support/tenancy.ts';

/**
 * Issue 12: the tenant boundary holds below the application. The data layer is called directly,
 * as a compromised or buggy handler would call it, inside tenant A's request context (a session
 * of the tenant-access role tagged `TenantId=A`, assumed with a tenant-data function's own key),
 * with tenant B's secret or database. The IAM stand-in (the tenant-access role's policy in the
 * synthesized templates) and PostgreSQL refuse, whatever the application checks would have said.
 */

const info = inject('platform');
const FUNCTION = 'rows/list-rows';

interface Placed {
  readonly tenantId: string;
  readonly database: string;
  readonly secretArn: string;
}

let a: Placed;
let b: Placed;
let clusters: DataApiClusters;
let sessions: TenantSessions;
const made: { destroy(): void }[] = [];

const functionCredentials = () => {
  const own = info.functions[FUNCTION];
  if (!own) throw new Error(`platform.json has no function ${FUNCTION}`);
  return { accessKeyId: own.accessKeyId, secretAccessKey: 'any: the stand-ins read the key id only' };
};

async function placed(tenantId: string): Promise<Placed> {
  const rows = await withPg(info, 'control', (client) =>
    client.query<{ database: string; secretArn: string }>(
      'select database_name as database, secret_arn as "secretArn" from tenant_databases where tenant_id = $1',
      [tenantId],
    ),
  );
  const [row] = rows.rows;
  if (!row) throw new Error(`tenant ${tenantId} has no database`);
  return { tenantId, ...row };
}

/** The error a call fails with: its name, message and SQLSTATE. */
async function failure(run: () => Promise<unknown>) {
  try {
    await run();
  } catch (error) {
    const e = error as Error;
    return { name: e.name, message: e.message, sqlState: sqlFailureOf(error)?.sqlState };
  }
  return undefined;
}

beforeAll(async () => {
  const owner = await newActor(clientFor(info), 'boundary-owner');
  const [first, second] = await Promise.all([newTenant(owner), newTenant(owner)]);
  [a, b] = await Promise.all([placed(first.tenantId), placed(second.tenantId)]);
  const roleArn = info.resources.tenantAccessRoleArn;
  if (!roleArn) throw new Error('platform.json names no tenant-access role');
  const sts = new STSClient({
    region: info.region,
    endpoint: info.endpoints.sts,
    credentials: functionCredentials(),
  });
  const own = new RDSDataClient({
    region: info.region,
    endpoint: info.dataApi.endpoint,
    credentials: functionCredentials(),
    maxAttempts: 1,
  });
  made.push(sts, own);
  sessions = new TenantSessions({ sts, roleArn });
  // The adapter as the composition root builds it for a tenant-data function.
  clusters = new DataApiClusters({
    client: own,
    clusters: [{ id: 'primary', resourceArn: info.dataApi.clusterArn }],
    tenantSessions: sessions,
    clientOptions: { region: info.region, endpoint: info.dataApi.endpoint, maxAttempts: 1 },
  });
});

afterAll(() => {
  for (const client of made) client.destroy();
});

describe("tenant A's session, below the application", () => {
  it("reaches tenant A's database as tenant A's own role", async () => {
    const sql = await clusters.asTenant({ clusterId: 'primary', ...a });
    const [row] = await sql.query<{ user: string }>('select current_user as "user"');
    expect(row?.user).toBe(roleNameFor(a.tenantId));
  });

  it("is refused tenant B's secret by IAM: AccessDeniedException naming A's session", async () => {
    const sql = await clusters.asTenant({
      clusterId: 'primary',
      tenantId: a.tenantId,
      database: b.database,
      secretArn: b.secretArn,
    });

    const refused = await failure(() => sql.query('select 1 as one'));

    expect(refused?.name).toBe('AccessDeniedException');
    expect(refused?.message).toContain(`:assumed-role/`);
    expect(refused?.message).toContain(
      `/${a.tenantId} is not authorized to perform: secretsmanager:GetSecretValue`,
    );
    expect(refused?.message).toContain(b.secretArn);
  });

  it("is refused tenant B's database with A's own secret by PostgreSQL (no CONNECT)", async () => {
    const sql = await clusters.asTenant({
      clusterId: 'primary',
      tenantId: a.tenantId,
      database: b.database,
      secretArn: a.secretArn,
    });

    const refused = await failure(() => sql.query('select 1 as one'));

    expect(refused?.sqlState).toBe('42501');
    expect(refused?.message).toContain(`permission denied for database "${b.database}"`);
  });

  it('holds when the ownership check is bypassed: openTenantDatabase on a registry that hands out B', async () => {
    // A registry whose ownership check is broken: it answers B's database for tenant A.
    const record = {
      id: 'd_b',
      tenantId: b.tenantId,
      clusterId: 'primary',
      databaseName: b.database,
      secretArn: b.secretArn,
      status: 'active',
    } as unknown as TenantDatabaseRecord;
    const databases = { placementFor: async () => record } as unknown as DatabaseRegistry;

    const opened = await openTenantDatabase({ databases, clusters }, a.tenantId, 'd_b');
    const refused = await failure(() => opened.sql.query('select 1 as one'));

    expect(refused?.name).toBe('AccessDeniedException');
    expect(refused?.message).toContain(`/${a.tenantId} is not authorized`);
  });
});

describe("the function's own role", () => {
  it('reads no tenant secret, its own tenant or another: AccessDeniedException', async () => {
    const own = new RDSDataClient({
      region: info.region,
      endpoint: info.dataApi.endpoint,
      credentials: functionCredentials(),
      maxAttempts: 1,
    });
    made.push(own);
    for (const tenant of [a, b]) {
      const sql = new DataApiSqlRunner({
        client: own,
        resourceArn: info.dataApi.clusterArn,
        secretArn: tenant.secretArn,
        database: tenant.database,
      });
      const refused = await failure(() => sql.query('select 1 as one'));
      expect(refused?.name, tenant.tenantId).toBe('AccessDeniedException');
      expect(refused?.message).toContain('secretsmanager:GetSecretValue');
    }
  });

  it('gets one session per tenant, reused for the next request of the same tenant', async () => {
    const before = sessions.assumed;
    await (await clusters.asTenant({ clusterId: 'primary', ...a })).query('select 1 as one');
    await (await clusters.asTenant({ clusterId: 'primary', ...a })).query('select 1 as one');
    expect(sessions.assumed - before).toBe(0);
  });
});
