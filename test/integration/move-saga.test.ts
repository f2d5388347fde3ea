import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { tablesDeps } from '#shared/composition/module-deps';
import { MoveRepository } from '#shared/control/move-repository';
import { rowsQuerySchema } from '#shared/data/row-query';
import { insertRow, listRows } from '#shared/data/rows';
import { createTable, createTableSchema } from '#shared/data/tables';
import { Conflict, DatabaseMoving } from '#shared/errors';
import { SecretNotFound } from '#shared/ports/secrets';
import {
  databaseNameFor,
  POOL_APP_USER,
  POOL_DATABASE,
  roleNameFor,
  secretNameFor,
} from '#shared/provisioning/names';
import { createDatabase } from '#shared/tenancy/lifecycle';
import { changeIsolation, moveDatabase, moveExecutionName } from '#shared/tenancy/moves';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import type { ProvisioningStep } from '#shared/workflows/provisioning';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';

/*
 * Moves (issue 18; docs/isolation-modes.md, "Moves") run by the saga in this process: the same
 * definition, step handlers and adapters as the platform, on the platform's clusters, with steps
 * made to fail or to wait. The HTTP routes and writes racing a move over the API are in
 * test/integration/moves.test.ts.
 */

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

const info = inject('platform');

describe('moves of tenant databases (the saga in process, injected failures)', () => {
  let saga: SagaHarness;

  beforeAll(async () => {
    saga = await startSagaHarness(info);
  });
  afterAll(async () => {
    await saga?.close();
  });
  afterEach(() => {
    saga.faults = [];
  });

  const deps = () => saga.services;

  async function tenantWithRows(name: string, rows = 40) {
    const owner = { userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` };
    const tenant = await registerTenant(saga.services, owner, { name });
    await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    const [database] = (await saga.services.databases.ofTenant(tenant.id)).filter((d) => d.isPrimary);
    if (!database) throw new Error('no primary database');
    const items = createTableSchema.parse({
      name: 'items',
      columns: [
        { name: 'n', type: 'integer' },
        { name: 'note', type: 'text' },
      ],
    });
    await createTable(tablesDeps(saga.services), tenant.id, database.id, items);
    for (let n = 0; n < rows; n++) {
      await insertRow(saga.services, tenant.id, database.id, 'items', { n, note: `row ${n} of ${name}` });
    }
    return { tenantId: tenant.id, databaseId: database.id };
  }

  /** sha256 of every row of `items` (through the API's own read), in id order. */
  async function rowsDigest(tenantId: string, databaseId: string) {
    const rows: unknown[] = [];
    let cursor: string | undefined;
    do {
      const query = rowsQuerySchema.parse({ limit: '100', ...(cursor ? { cursor } : {}) });
      const page = await listRows(saga.services, tenantId, databaseId, 'items', query);
      rows.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return { rows: rows.length, sha256: createHash('sha256').update(JSON.stringify(rows)).digest('hex') };
  }

  /** What exists for the tenant on a cluster, seen by its superuser. */
  async function onCluster(clusterId: string, tenantId: string, databaseId: string) {
    const cluster = info.clusters.find((c) => c.id === clusterId);
    if (!cluster) throw new Error(`no cluster ${clusterId}`);
    const connect = async (database: string) => {
      const client = new pg.Client({ ...cluster.postgres, database });
      await client.connect();
      return client;
    };
    const admin = await connect('postgres');
    const pool = await connect(POOL_DATABASE);
    try {
      const database = await admin.query('select 1 from pg_database where datname = $1', [
        databaseNameFor(databaseId),
      ]);
      const role = await admin.query<{ login: boolean; pooled: boolean }>(
        `select r.rolcanlogin as login,
                exists (select 1 from pg_auth_members m join pg_roles p on p.oid = m.member
                         where m.roleid = r.oid and p.rolname = $2) as pooled
           from pg_roles r where r.rolname = $1`,
        [roleNameFor(tenantId), POOL_APP_USER],
      );
      const schema = await pool.query('select 1 from pg_namespace where nspname = $1', [
        databaseNameFor(databaseId),
      ]);
      return {
        database: database.rowCount === 1,
        schema: schema.rowCount === 1,
        role: role.rows[0] ?? null,
      };
    } finally {
      await admin.end();
      await pool.end();
    }
  }

  const hasSecret = (tenantId: string) =>
    saga.secrets
      .getSecretValue(secretNameFor(saga.stage, tenantId))
      .then(() => true)
      .catch((error: unknown) => (error instanceof SecretNotFound ? false : Promise.reject(error)));

  async function movedParts(tenantId: string, moveId: string) {
    return (await saga.backupStore.list(tenantId, `${moveId}/`)).length;
  }

  async function waitForPhase(moveId: string, phase: string) {
    for (let i = 0; i < 600; i++) {
      const [move] = await new MoveRepository(saga.services.control).ofMove(moveId);
      if (move?.phase === phase) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`move ${moveId} never reached ${phase}`);
  }

  it('silo → pool → silo: rows identical, writes refused while frozen and accepted after, sources dropped, role and secret fitted', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Round trip');
    const before = await rowsDigest(tenantId, databaseId);
    let release = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    saga.faults = [{ step: 'SyncMoveDatabase', when: 'before', hold: () => hold, times: 1 }];

    const started = await changeIsolation(deps(), tenantId, 'pool');
    expect(started).toMatchObject({ isolation: 'pool', phase: 'copying', databases: [{ databaseId }] });
    await waitForPhase(started.moveId, 'frozen');

    // Frozen: a write is refused with 503 and Retry-After, nothing written; reads go on; DDL is refused.
    const refused = await insertRow(saga.services, tenantId, databaseId, 'items', { n: -1 }).catch((e) => e);
    expect(refused).toBeInstanceOf(DatabaseMoving);
    expect(refused).toMatchObject({
      statusCode: 503,
      code: 'database_moving',
      headers: { 'retry-after': '2' },
    });
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    const ddl = await createTable(tablesDeps(saga.services), tenantId, databaseId, {
      name: 'other',
      columns: [],
    }).catch((e) => e);
    expect(ddl).toBeInstanceOf(Conflict);
    expect(ddl.details).toMatchObject({ reason: 'database_moving' });
    // A second move is refused while this one runs.
    await expect(moveDatabase(deps(), tenantId, databaseId, 'c2')).rejects.toMatchObject({
      details: { reason: 'move_in_progress' },
    });

    release();
    const execution = await saga.workflows.waitFor(moveExecutionName(started.moveId));
    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        'PlanMove',
        'MoveCopyDatabase',
        'FreezeMoveWrites',
        'MoveSyncDatabase',
        'SwitchMove',
        'FinishMove',
      ]),
    );
    const record = await saga.services.databases.get(databaseId);
    expect(record).toMatchObject({
      databaseName: POOL_DATABASE,
      schemaName: databaseNameFor(databaseId),
      clusterId: 'primary',
    });
    expect((await saga.services.tenants.get(tenantId))?.isolation).toBe('pool');
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    const [move] = await new MoveRepository(saga.services.control).ofMove(started.moveId);
    expect(move?.phase).toBe('completed');
    expect(move?.verification).toMatchObject({ rows: before.rows + 1, recopied: [] });
    // The source database is gone, the role only switched to (NOLOGIN), no secret, no parts left.
    expect(await onCluster('primary', tenantId, databaseId)).toEqual({
      database: false,
      schema: true,
      role: { login: false, pooled: true },
    });
    expect(await hasSecret(tenantId)).toBe(false);
    expect(await movedParts(tenantId, started.moveId)).toBe(0);

    // Writes go to the copy now; and back to silo with them.
    await insertRow(saga.services, tenantId, databaseId, 'items', { n: 1000, note: 'after the move' });
    const pooled = await rowsDigest(tenantId, databaseId);
    expect(pooled.rows).toBe(before.rows + 1);
    const back = await changeIsolation(deps(), tenantId, 'silo');
    expect((await saga.workflows.waitFor(moveExecutionName(back.moveId)))?.status).toBe('SUCCEEDED');
    expect(await saga.services.databases.get(databaseId)).toMatchObject({
      databaseName: databaseNameFor(databaseId),
      schemaName: null,
    });
    expect((await saga.services.tenants.get(tenantId))?.isolation).toBe('silo');
    expect(await rowsDigest(tenantId, databaseId)).toEqual(pooled);
    expect(await onCluster('primary', tenantId, databaseId)).toEqual({
      database: true,
      schema: false,
      role: { login: true, pooled: false },
    });
    expect(await hasSecret(tenantId)).toBe(true);
  });

  it('silo → silo on another cluster: the copy there, the source and its role gone from the first', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Other cluster');
    const before = await rowsDigest(tenantId, databaseId);

    const started = await moveDatabase(deps(), tenantId, databaseId, 'c2');
    expect(started.databases).toEqual([
      expect.objectContaining({ fromClusterId: 'primary', toClusterId: 'c2' }),
    ]);
    expect((await saga.workflows.waitFor(moveExecutionName(started.moveId)))?.status).toBe('SUCCEEDED');

    expect((await saga.services.databases.get(databaseId))?.clusterId).toBe('c2');
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    expect(await onCluster('c2', tenantId, databaseId)).toEqual({
      database: true,
      schema: false,
      role: { login: true, pooled: false },
    });
    expect(await onCluster('primary', tenantId, databaseId)).toEqual({
      database: false,
      schema: false,
      role: null,
    });
    await insertRow(saga.services, tenantId, databaseId, 'items', { n: 7 });
    expect((await rowsDigest(tenantId, databaseId)).rows).toBe(before.rows + 1);
    // Its own cluster again is no move.
    await expect(moveDatabase(deps(), tenantId, databaseId, 'c2')).rejects.toMatchObject({
      details: { reason: 'already_there' },
    });
  });

  it('an isolation move takes every database of the tenant, and switches them together', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Two databases', 5);
    const extra = await createDatabase(saga.services, tenantId, 'second');
    expect((await saga.workflows.waitFor(`provision-${extra.id}`))?.status).toBe('SUCCEEDED');
    const before = await rowsDigest(tenantId, databaseId);

    const started = await changeIsolation(deps(), tenantId, 'pool');
    expect(started.databases.map((d) => d.databaseId).sort()).toEqual([databaseId, extra.id].sort());
    expect((await saga.workflows.waitFor(moveExecutionName(started.moveId)))?.status).toBe('SUCCEEDED');

    for (const id of [databaseId, extra.id]) {
      expect(await saga.services.databases.get(id)).toMatchObject({
        databaseName: POOL_DATABASE,
        schemaName: databaseNameFor(id),
        status: 'active',
      });
      expect(await onCluster('primary', tenantId, id)).toMatchObject({ database: false, schema: true });
    }
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    expect(await hasSecret(tenantId)).toBe(false);
  });

  it('pool → silo with writes during the copy: the written table copied again under the freeze, rows identical', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Writes during the copy', 20);
    const pooled = await changeIsolation(deps(), tenantId, 'pool');
    expect((await saga.workflows.waitFor(moveExecutionName(pooled.moveId)))?.status).toBe('SUCCEEDED');
    let release = () => {};
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reached = () => {};
    const copied = new Promise<void>((resolve) => {
      reached = resolve;
    });
    saga.faults = [
      {
        step: 'CopyMoveDatabase',
        when: 'after',
        hold: () => {
          reached();
          return hold;
        },
        times: 1,
      },
    ];

    const started = await changeIsolation(deps(), tenantId, 'silo');
    // Copied (and caught up), not frozen yet: writes are taken (by the source), table definitions are not.
    await copied;
    await waitForPhase(started.moveId, 'copying');
    for (let n = 100; n < 105; n++) await insertRow(saga.services, tenantId, databaseId, 'items', { n });
    const other = createTableSchema.parse({ name: 'other' });
    await expect(createTable(tablesDeps(saga.services), tenantId, databaseId, other)).rejects.toMatchObject({
      details: { reason: 'database_moving' },
    });
    const written = await rowsDigest(tenantId, databaseId);
    release();
    expect((await saga.workflows.waitFor(moveExecutionName(started.moveId)))?.status).toBe('SUCCEEDED');

    const [move] = await new MoveRepository(saga.services.control).ofMove(started.moveId);
    expect(move?.verification).toMatchObject({ rows: written.rows + 1, recopied: ['items'], dropped: [] });
    expect(await rowsDigest(tenantId, databaseId)).toEqual(written);
    expect((await saga.services.databases.get(databaseId))?.schemaName).toBeNull();
    expect(await onCluster('primary', tenantId, databaseId)).toEqual({
      database: true,
      schema: false,
      role: { login: true, pooled: false },
    });
    expect(await hasSecret(tenantId)).toBe(true);
  });

  it('a failed pool → silo move leaves the tenant pooled: no silo database, no secret, the schema writable', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Pooled, fails back', 10);
    const pooled = await changeIsolation(deps(), tenantId, 'pool');
    expect((await saga.workflows.waitFor(moveExecutionName(pooled.moveId)))?.status).toBe('SUCCEEDED');
    const before = await rowsDigest(tenantId, databaseId);
    saga.faults = [{ step: 'SyncMoveDatabase', when: 'after', error: new InjectedFailure('boom'), times: 1 }];

    const started = await changeIsolation(deps(), tenantId, 'silo');
    expect((await saga.workflows.waitFor(moveExecutionName(started.moveId)))?.error).toBe('MoveFailed');

    expect((await saga.services.tenants.get(tenantId))?.isolation).toBe('pool');
    expect((await saga.services.databases.get(databaseId))?.schemaName).toBe(databaseNameFor(databaseId));
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    await insertRow(saga.services, tenantId, databaseId, 'items', { n: 1 });
    expect(await onCluster('primary', tenantId, databaseId)).toEqual({
      database: false,
      schema: true,
      role: { login: false, pooled: true },
    });
    expect(await hasSecret(tenantId)).toBe(false);
  });

  const failures: Array<[ProvisioningStep, 'before' | 'after']> = [
    ['PlanMove', 'before'],
    ['CopyMoveDatabase', 'before'],
    ['CopyMoveDatabase', 'after'],
    ['FreezeMoveWrites', 'before'],
    ['FreezeMoveWrites', 'after'],
    ['SyncMoveDatabase', 'before'],
    ['SyncMoveDatabase', 'after'],
    ['SwitchMove', 'before'],
  ];

  it.each(failures)(
    'a failure %s (%s its work) rolls back: the source as it was and writable, no copy, role and secret as before',
    async (step, when) => {
      const { tenantId, databaseId } = await tenantWithRows(`Fails ${step} ${when}`, 10);
      const before = await rowsDigest(tenantId, databaseId);
      const placement = await saga.services.databases.get(databaseId);
      saga.faults = [{ step, when, error: new InjectedFailure(`boom in ${step}`), times: 1 }];

      const started = await changeIsolation(deps(), tenantId, 'pool');
      const execution = await saga.workflows.waitFor(moveExecutionName(started.moveId));
      saga.faults = [];

      expect(execution?.status).toBe('FAILED');
      expect(execution?.error).toBe('MoveFailed');
      const [move] = await new MoveRepository(saga.services.control).ofMove(started.moveId);
      expect(move).toMatchObject({ phase: 'failed', reason: 'InjectedFailure during the move' });
      const record = await saga.services.databases.get(databaseId);
      expect(record).toMatchObject({
        clusterId: placement?.clusterId,
        databaseName: placement?.databaseName,
        schemaName: null,
        secretArn: placement?.secretArn,
      });
      expect((await saga.services.tenants.get(tenantId))?.isolation).toBe('silo');
      expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
      await insertRow(saga.services, tenantId, databaseId, 'items', { n: 99 });
      expect((await rowsDigest(tenantId, databaseId)).rows).toBe(before.rows + 1);
      expect(await onCluster('primary', tenantId, databaseId)).toEqual({
        database: true,
        schema: false,
        role: { login: true, pooled: false },
      });
      expect(await hasSecret(tenantId)).toBe(true);
      expect(await movedParts(tenantId, started.moveId)).toBe(0);
    },
  );

  it('a failure after the switch keeps the tenant on its copies: nothing lost, the source left for an operator', async () => {
    const { tenantId, databaseId } = await tenantWithRows('Fails after the switch', 10);
    const before = await rowsDigest(tenantId, databaseId);
    saga.faults = [{ step: 'FinishMove', when: 'before', error: new InjectedFailure('boom'), times: 1 }];

    const started = await moveDatabase(deps(), tenantId, databaseId, 'c2');
    const execution = await saga.workflows.waitFor(moveExecutionName(started.moveId));
    saga.faults = [];

    expect(execution?.error).toBe('MoveCleanupFailed');
    expect((await saga.services.databases.get(databaseId))?.clusterId).toBe('c2');
    expect(await rowsDigest(tenantId, databaseId)).toEqual(before);
    await insertRow(saga.services, tenantId, databaseId, 'items', { n: 5 });
    const [move] = await new MoveRepository(saga.services.control).ofMove(started.moveId);
    expect(move?.phase).toBe('switched');
    // The source is still there (frozen), for an operator to drop.
    expect((await onCluster('primary', tenantId, databaseId)).database).toBe(true);
  });
});
