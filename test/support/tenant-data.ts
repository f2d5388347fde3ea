import type pg from 'pg';
import type { LocalClient } from '#infra/local/client';
import type { PlatformInfo } from '#infra/local/platform-info';
import { type Actor, newActor, newTenant, type TenantMaking } from './actors.ts';
import { expectStatus, withPg } from './tenancy.ts';

export const COMPLETE_SETTINGS = {
  address: { line1: '1 Main Street', city: 'Lyon', postalCode: '69001', country: 'FR' },
  companyEmail: 'billing@example.com',
  defaultCurrency: 'EUR',
};

/** A new active tenant of `owner` and its primary database id. */
export async function tenantWithDatabase(owner: Actor, settings: object = {}, making?: TenantMaking) {
  const { tenantId } = await newTenant(owner, undefined, settings, making);
  const databases = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
    items: { id: string; status: string }[];
  };
  const databaseId = databases.items[0]?.id;
  if (!databaseId) throw new Error('the tenant has no database');
  return { tenantId, databaseId, base: `/tenants/${tenantId}/databases/${databaseId}` };
}

/** The tenant database's name in the control database. */
export async function databaseNameOf(info: PlatformInfo, databaseId: string): Promise<string> {
  return withPg(info, 'control', async (client) => {
    const result = await client.query('select database_name from tenant_databases where id = $1', [
      databaseId,
    ]);
    return result.rows[0].database_name as string;
  });
}

/** Where the tenant database is: its database, a pooled one's schema in it, and its tenant's role. */
export async function placementOf(
  info: PlatformInfo,
  databaseId: string,
): Promise<{ database: string; schema: string | null; role: string }> {
  return withPg(info, 'control', async (client) => {
    const result = await client.query(
      'select database_name as database, schema_name as schema, role_name as role from tenant_databases where id = $1',
      [databaseId],
    );
    return result.rows[0] as { database: string; schema: string | null; role: string };
  });
}

/**
 * Runs `work` as the superuser in the tenant database `databaseId`: a pooled one's schema is the
 * search path, so that unqualified names are its tables in both isolations.
 */
export async function inTenantDatabase<T>(
  info: PlatformInfo,
  databaseId: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const { database, schema } = await placementOf(info, databaseId);
  return withPg(info, database, async (client) => {
    if (schema !== null) await client.query(`set search_path to "${schema}"`);
    return work(client);
  });
}

/** A request with a text body (a CSV or NDJSON file) and its content type, as `Actor.call` answers. */
export async function sendText(
  info: PlatformInfo,
  actor: Actor,
  method: string,
  path: string,
  text: string | Buffer,
  contentType: string,
  headers: Record<string, string> = {},
): Promise<Awaited<ReturnType<Actor['call']>>> {
  const response = await fetch(new URL(path, info.apiUrl), {
    method,
    headers: { authorization: `Bearer ${actor.token}`, 'content-type': contentType, ...headers },
    body: text,
  });
  const body = await response.text();
  let parsed: unknown = body;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    // a file, or not JSON: kept as text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** How many rows the table has, counted behind the API's back (for "nothing was written"). */
export async function rowCount(info: PlatformInfo, databaseId: string, table: string): Promise<number> {
  return inTenantDatabase(info, databaseId, async (pg) =>
    Number((await pg.query(`select count(*)::int as n from "${table}"`)).rows[0].n),
  );
}

/** The isolations the tenant-data, module and isolation suites run over (docs/isolation-modes.md). */
export const ISOLATIONS = ['silo', 'pool'] as const;

/** How a suite makes its tenants in `isolation`: pooled ones through a platform admin of its own. */
export async function tenantMakingFor(
  client: LocalClient,
  isolation: (typeof ISOLATIONS)[number],
): Promise<TenantMaking> {
  if (isolation === 'silo') return { isolation };
  return { isolation, registrar: await newActor(client, 'pool-registrar', { groups: ['platform-admin'] }) };
}
