import { describe, expect, it } from 'vitest';
import {
  ACTIVE_DATABASE_TTL_MS,
  ActiveDatabaseCache,
  DatabaseRegistry,
  type DatabaseStatus,
  type TenantDatabaseRecord,
} from '#shared/control/database-registry';
import { openTenantDatabase, type TenantDataDeps } from '#shared/data/tenant-database';
import type { DatabaseClusters } from '#shared/ports/clusters';
import type { SqlRow, SqlRunner } from '#shared/ports/sql';
import { tenantDatabaseRecord } from '../support/database-records.ts';

/** The control database's row for one tenant database, which another function may change. */
function controlDatabase(initial: TenantDatabaseRecord) {
  const state = { row: initial, reads: 0 };
  const sql: SqlRunner = {
    async query<T extends SqlRow>(): Promise<T[]> {
      state.reads += 1;
      return [state.row as unknown as T];
    },
    async execute(_sql, params) {
      state.row = { ...state.row, status: params?.to as DatabaseStatus };
      return 1;
    },
    transaction: (work) => work(sql),
  };
  return { sql, state, dropElsewhere: () => (state.row = { ...state.row, status: 'deleting' }) };
}

const active: TenantDatabaseRecord = tenantDatabaseRecord();

const tenantRunner = {} as SqlRunner;
// openTenantDatabase uses asTenant only.
const clusters = { asTenant: async () => tenantRunner } as unknown as DatabaseClusters;

function setUp() {
  const clock = { now: 1_000_000 };
  const control = controlDatabase(active);
  const registry = new DatabaseRegistry(control.sql, new ActiveDatabaseCache(() => clock.now));
  const deps: TenantDataDeps = { databases: registry, clusters };
  return { clock, control, registry, open: () => openTenantDatabase(deps, 't-1', 'db-1') };
}

describe('the active-database cache of a function', () => {
  it('serves a database dropped by another function for at most the bound, then answers 409', async () => {
    const { clock, control, open } = setUp();
    await expect(open()).resolves.toMatchObject({ sql: tenantRunner });
    control.dropElsewhere();

    clock.now += ACTIVE_DATABASE_TTL_MS - 1;
    await expect(open()).resolves.toMatchObject({ record: { status: 'active' } });
    expect(control.state.reads).toBe(1);

    clock.now += 1;
    await expect(open()).rejects.toMatchObject({ statusCode: 409, details: { databaseStatus: 'deleting' } });
    expect(control.state.reads).toBe(2);
  });

  it('forgets at once a database whose status this function changed', async () => {
    const { control, registry, open } = setUp();
    await open();
    await registry.transition('db-1', ['active'], 'deleting');
    await expect(open()).rejects.toMatchObject({ statusCode: 409 });
    expect(control.state.reads).toBe(2);
  });

  it('never answers another tenant from the cache', async () => {
    const { registry, open } = setUp();
    await open();
    await expect(registry.placementFor('t-2', 'db-1')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('keeps no database that is not active', async () => {
    const { clock, control, open } = setUp();
    control.dropElsewhere();
    await expect(open()).rejects.toMatchObject({ statusCode: 409 });
    control.state.row = active;
    clock.now += 1;
    await expect(open()).resolves.toMatchObject({ record: { status: 'active' } });
    expect(control.state.reads).toBe(2);
  });
});
