import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONTROL_DATABASE } from '#infra/local/platform-info';
import { CONTROL_APP_USER } from '#shared/control/application-role';
import { sqlFailureOf } from '#shared/ports/sql';
import { roleNameFor } from '#shared/provisioning/names';
import { clientFor, newActor, newTenant } from '../support/actors.ts';
import { type ClosableRunner, dataApiRunner, withPg } from '../support/tenancy.ts';

/**
 * What the database itself lets each login do, below any application check, through the Data
 * API stand-in as the product reaches it:
 * - the control application role (`tenantry_app`, what handlers, triggers and jobs log in as) reads
 *   and writes control rows and nothing else: no DDL, no roles, no databases, no migrations'
 *   bookkeeping, no tenant database;
 * - the master, outside the provisioning steps, cannot act as a tenant's role or open its database.
 */

const info = inject('platform');
const opened: ClosableRunner[] = [];
let tenantId: string;
let tenantDatabase: string;

const open = (database: string, secretArn: string) => {
  const made = dataApiRunner(info, database, secretArn);
  opened.push(made);
  return made.runner;
};

/** The SQLSTATE a statement fails with (undefined when it succeeds). */
async function refusal(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    return sqlFailureOf(error)?.sqlState ?? (error as Error).name;
  }
}

beforeAll(async () => {
  const owner = await newActor(clientFor(info), 'roles-owner');
  ({ tenantId } = await newTenant(owner));
  const [row] = await open(CONTROL_DATABASE, info.dataApi.masterSecretArn).query<{ name: string }>(
    'select database_name as name from tenant_databases where tenant_id = :tenantId',
    { tenantId },
  );
  tenantDatabase = row?.name ?? '';
  expect(tenantDatabase).not.toBe('');
});

afterAll(() => {
  for (const made of opened) made.close();
});

describe('the control application role', () => {
  const app = () => open(CONTROL_DATABASE, info.dataApi.controlSecretArn);

  it('logs in as tenantry_app, not the master, and reads and writes control rows', async () => {
    const [who] = await app().query<{
      user: string;
      superuser: boolean;
      createrole: boolean;
      createdb: boolean;
    }>(
      `select current_user as "user", rolsuper as superuser, rolcreaterole as createrole, rolcreatedb as createdb
         from pg_roles where rolname = current_user`,
    );
    expect(who).toEqual({ user: CONTROL_APP_USER, superuser: false, createrole: false, createdb: false });
    const [tenant] = await app().query<{ id: string }>('select id from tenants where id = :tenantId', {
      tenantId,
    });
    expect(tenant?.id).toBe(tenantId);
    // A write it is allowed (and undone): an UPDATE that changes nothing.
    expect(await app().execute('update tenants set name = name where id = :tenantId', { tenantId })).toBe(1);
  });

  it('cannot create, alter or drop anything in the control schema (42501 / must be owner)', async () => {
    expect(await refusal(() => app().execute('create table stolen (a int)'))).toBe('42501');
    expect(await refusal(() => app().execute('alter table tenants add column stolen int'))).toBe('42501');
    expect(await refusal(() => app().execute('drop table memberships'))).toBe('42501');
    expect(await refusal(() => app().execute('create index stolen on tenants (name)'))).toBe('42501');
  });

  it('cannot record or undo a migration', async () => {
    expect(
      await refusal(() => app().execute(`insert into schema_migrations (version, name) values (9999, 'x')`)),
    ).toBe('42501');
    expect(await refusal(() => app().execute('delete from schema_migrations'))).toBe('42501');
    const [latest] = await app().query<{ version: number }>(
      'select max(version) as version from schema_migrations',
    );
    expect(latest?.version).toBeGreaterThan(0);
  });

  it('cannot create roles or databases, or grant itself a tenant role', async () => {
    expect(await refusal(() => app().execute('create role stolen login'))).toBe('42501');
    expect(await refusal(() => app().execute('create database stolen'))).toBe('42501');
    expect(await refusal(() => app().execute(`grant ${roleNameFor(tenantId)} to current_user`))).toBe(
      '42501',
    );
  });

  it("cannot open a tenant's database, nor the cluster's postgres database", async () => {
    const tenant = open(tenantDatabase, info.dataApi.controlSecretArn);
    // FATAL: permission denied for database "db_…" (CONNECT was taken from PUBLIC by its owner).
    expect(await refusal(() => tenant.query('select 1 as one'))).toBe('42501');
    expect(
      await refusal(() => open('postgres', info.dataApi.controlSecretArn).query('select 1 as one')),
    ).toBe('42501');
  });
});

describe('the master outside the provisioning steps', () => {
  it("is no member of a tenant's role: it cannot SET ROLE to it or use its privileges", async () => {
    const master = open('postgres', info.dataApi.masterSecretArn);
    const role = roleNameFor(tenantId);
    // PostgreSQL 16+ leaves a role's creator the ADMIN option alone (grant and drop it), without
    // SET or INHERIT: https://www.postgresql.org/docs/17/functions-info.html (pg_has_role).
    const [membership] = await master.query<{ set: boolean; usage: boolean }>(
      `select pg_has_role(current_user, :role, 'SET') as set, pg_has_role(current_user, :role, 'USAGE') as usage`,
      { role },
    );
    expect(membership).toEqual({ set: false, usage: false });
    expect(await refusal(() => master.transaction((tx) => tx.execute(`set local role ${role}`)))).toBe(
      '42501',
    );
  });

  it("cannot open the tenant's database", async () => {
    expect(
      await refusal(() => open(tenantDatabase, info.dataApi.masterSecretArn).query('select 1 as one')),
    ).toBe('42501');
    // The database exists and the tenant's own role owns it: the refusal is the master's alone.
    const owner = await withPg(info, 'postgres', (client) =>
      client.query<{ owner: string }>(
        'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
        [tenantDatabase],
      ),
    );
    expect(owner.rows[0]?.owner).toBe(roleNameFor(tenantId));
  });
});
