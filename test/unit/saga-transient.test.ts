import { DatabaseErrorException } from '@aws-sdk/client-rds-data';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseResuming, translateDataApiError } from '#shared/adapters/data-api-sql';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import type { TenantDatabaseRecord } from '#shared/control/database-registry';
import type { SqlRunner } from '#shared/ports/sql';
import { applyBaselineSchema, createRoleAndDatabase, type SagaDeps } from '#shared/provisioning/saga';
import { tenantDatabaseRecord } from '../support/database-records.ts';

const record: TenantDatabaseRecord = tenantDatabaseRecord({ isPrimary: true, status: 'provisioning' });

const dataApiError = (message: string) =>
  translateDataApiError(new DatabaseErrorException({ message, $metadata: {} }));

/** A runner whose every statement fails with `error`, as an adapter threw it. */
const failingWith = (error: unknown): SqlRunner => ({
  query: () => Promise.reject(error),
  execute: () => Promise.reject(error),
  transaction: () => Promise.reject(error),
});

function sagaDeps(admin: SqlRunner, tenant: SqlRunner = admin): SagaDeps {
  const deps = {
    databases: { get: async () => record },
    clusters: { admin: () => admin, asTenant: async () => tenant },
    secrets: {
      getSecretValue: async () =>
        JSON.stringify({ username: 'u', password: 'A'.repeat(32), engine: 'postgres' }),
    },
  };
  // The steps under test use only these members; the rest of SagaDeps is not reached.
  return deps as unknown as SagaDeps;
}

// Nothing listens on port 1: connecting is refused, as when a server is restarting.
const unreachable = new PgSqlRunner({ host: '127.0.0.1', port: 1, user: 'x', database: 'x' });
afterAll(() => unreachable.close());

describe('the saga retries what the SQL adapters call transient, and only that', () => {
  const transient: [string, () => unknown][] = [
    ['a deadlock (Data API)', () => dataApiError('ERROR: deadlock detected; SQLState: 40P01')],
    ['tuple concurrently updated (Data API)', () => dataApiError('ERROR: tuple concurrently updated')],
  ];
  const lasting: [string, () => unknown][] = [
    ['a syntax error', () => dataApiError('ERROR: syntax error at or near "x"; SQLState: 42601')],
    ['a permission error', () => dataApiError('ERROR: permission denied to create role; SQLState: 42501')],
    ['an error not from a statement', () => new Error('deadlock detected, says something else')],
  ];

  it.each(transient)('turns %s into a TransientError', async (_, make) => {
    await expect(createRoleAndDatabase(sagaDeps(failingWith(make())), 't-1', 'db-1')).rejects.toMatchObject({
      name: 'TransientError',
    });
    await expect(applyBaselineSchema(sagaDeps(failingWith(make())), 't-1', 'db-1')).rejects.toMatchObject({
      name: 'TransientError',
    });
  });

  it('lets a resuming database fail the step as DatabaseResuming, so the longer retrier for a resume applies', async () => {
    await expect(
      createRoleAndDatabase(sagaDeps(failingWith(new DatabaseResuming())), 't-1', 'db-1'),
    ).rejects.toMatchObject({ name: 'DatabaseResuming' });
    await expect(
      applyBaselineSchema(sagaDeps(failingWith(new DatabaseResuming())), 't-1', 'db-1'),
    ).rejects.toMatchObject({ name: 'DatabaseResuming' });
  });

  it('turns a refused connection (pg) into a TransientError', async () => {
    await expect(createRoleAndDatabase(sagaDeps(unreachable), 't-1', 'db-1')).rejects.toMatchObject({
      name: 'TransientError',
    });
  });

  it.each(lasting)('rethrows %s as it was', async (_, make) => {
    const error = make();
    await expect(createRoleAndDatabase(sagaDeps(failingWith(error)), 't-1', 'db-1')).rejects.toBe(error);
    await expect(applyBaselineSchema(sagaDeps(failingWith(error)), 't-1', 'db-1')).rejects.toBe(error);
  });

  it('goes on when the database exists already, known by its SQLSTATE', async () => {
    const statements: string[] = [];
    const exists = dataApiError('ERROR: database "tenant_db_1" exists; SQLState: 42P04');
    const admin: SqlRunner = {
      query: async () => [],
      execute: async (sql) => {
        statements.push(sql);
        if (sql.startsWith('create database')) throw exists;
        return 0;
      },
      transaction: (work) => work(admin),
    };
    await expect(createRoleAndDatabase(sagaDeps(admin), 't-1', 'db-1')).resolves.toEqual({
      database: 'tenant_db_1',
      role: 'tenant_role_1',
    });
    expect(statements.some((sql) => sql.startsWith('grant connect'))).toBe(true);
  });
});
