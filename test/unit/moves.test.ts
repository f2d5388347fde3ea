import { describe, expect, it } from 'vitest';
import type { DatabaseRegistry, TenantDatabaseRecord } from '#shared/control/database-registry';
import { openTenantDatabase } from '#shared/data/tenant-database';
import { DatabaseMoving } from '#shared/errors';
import type { DatabaseClusters } from '#shared/ports/clusters';
import { SqlError, type SqlRunner } from '#shared/ports/sql';
import { provisioningDefinition } from '#shared/workflows/provisioning';

/*
 * The move's write freeze as the API answers it (shared/data/tenant-database.ts), and the move's
 * states (shared/workflows/move-states.ts): what rolls back and what does not. The moves
 * themselves run against PostgreSQL in test/integration/move-saga.test.ts.
 */

const record: TenantDatabaseRecord = {
  id: 'd_aaaaaaaaaaaaaaaa',
  tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
  label: 'main',
  isPrimary: true,
  status: 'active',
  statusReason: null,
  clusterId: 'primary',
  databaseName: 'db_aaaaaaaaaaaaaa',
  schemaName: null,
  roleName: 'tenant_aaaaaaaaaaaaaaaaaaaa',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tn/dev/x',
  restoredFrom: null,
  createdAt: '2026-12-01T00:00:00Z',
  updatedAt: '2026-12-01T00:00:00Z',
};

const denied = () =>
  new SqlError('permission denied for table items', {
    sqlState: '42501',
    constraint: undefined,
    transient: false,
  });

/** A tenant database whose every statement is refused with insufficient_privilege. */
function world(phase: 'copying' | 'frozen' | null, now: TenantDatabaseRecord = record) {
  const refusing: SqlRunner = {
    query: async () => Promise.reject(denied()),
    execute: async () => Promise.reject(denied()),
    transaction: async (work) => work(refusing),
  };
  const databases = {
    placementFor: async () => record,
    movePhase: async () => phase,
    get: async () => now,
  } as unknown as DatabaseRegistry;
  const clusters = { asTenant: async () => refusing } as unknown as DatabaseClusters;
  return { databases, clusters };
}

describe('a write refused by a move', () => {
  it('answers 503 database_moving with Retry-After while the database is frozen', async () => {
    const { sql } = await openTenantDatabase(world('frozen'), record.tenantId, record.id);
    const refused = await sql.execute('insert into items default values').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseMoving);
    expect(refused).toMatchObject({
      statusCode: 503,
      code: 'database_moving',
      headers: { 'retry-after': '2' },
    });
    // Inside a transaction too.
    await expect(sql.transaction((tx) => tx.query('select 1'))).rejects.toBeInstanceOf(DatabaseMoving);
  });

  it('answers 503 when the record used names a source the move has switched away from', async () => {
    const moved = { ...record, clusterId: 'c2' };
    const { sql } = await openTenantDatabase(world(null, moved), record.tenantId, record.id);
    await expect(sql.execute('update items set n = 1')).rejects.toBeInstanceOf(DatabaseMoving);
  });

  it('passes any other insufficient_privilege unchanged: no move, the same placement', async () => {
    for (const phase of [null, 'copying'] as const) {
      const { sql } = await openTenantDatabase(world(phase), record.tenantId, record.id);
      const refused = await sql.execute('insert into items default values').catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SqlError);
      expect(refused).not.toBeInstanceOf(DatabaseMoving);
    }
  });

  it('refuses table changes (409 database_moving) while a move copies, read now', async () => {
    await expect(
      openTenantDatabase(world('copying'), record.tenantId, record.id, { changesTables: true }),
    ).rejects.toMatchObject({ statusCode: 409, details: { reason: 'database_moving' } });
    await expect(
      openTenantDatabase(world(null), record.tenantId, record.id, { changesTables: true }),
    ).resolves.toBeDefined();
  });
});

describe('the move states', () => {
  const states = provisioningDefinition((step) => `arn:aws:lambda:us-east-1:0:function:${step}`)
    .States as Record<string, { Next?: string; Catch?: { Next: string }[]; Type: string; Seconds?: number }>;
  const before = ['PlanMove', 'MoveCopyDatabases', 'FreezeMoveWrites', 'MoveSyncDatabases', 'SwitchMove'];

  it('runs plan, copy, freeze, sync, switch, grace, finish in that order', () => {
    const order = ['PlanMove'];
    while (states[order.at(-1) as string]?.Next) order.push(states[order.at(-1) as string]?.Next as string);
    expect(order).toEqual([...before, 'MoveSourceGrace', 'FinishMove']);
    expect(states.MoveSourceGrace).toMatchObject({ Type: 'Wait', Seconds: 10 });
  });

  it('rolls back on any failure up to the switch, and never after it', () => {
    for (const name of before)
      expect(
        states[name]?.Catch?.map((c) => c.Next),
        name,
      ).toEqual(['CompensateMove']);
    expect(states.FinishMove?.Catch?.map((c) => c.Next)).toEqual(['MoveCleanupFailed']);
    expect(states.CompensateMove?.Next).toBe('MoveFailed');
  });
});
