import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MASTER_USER } from '#infra/local/engines/aurora-master';
import { SecretNotFound } from '#shared/ports/secrets';
import { roleNameFor, secretNameFor } from '#shared/provisioning/names';
import { offboard, provisioningStatus } from '#shared/tenancy/lifecycle';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { attemptName, startWorkflow } from '#shared/workflows/attempts';
import type { ProvisioningStep } from '#shared/workflows/provisioning';
import { HARNESS_CREDENTIALS, type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

class TransientError extends Error {
  override readonly name = 'TransientError';
}

describe('the provisioning saga (same definition, steps and adapters as the platform, injected failures)', () => {
  let saga: SagaHarness;

  beforeAll(async () => {
    saga = await startSagaHarness(inject('platform'));
  });
  afterAll(async () => {
    await saga?.close();
  });

  const owner = () => ({ userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` });

  async function register(name: string) {
    const tenantOwner = owner();
    const tenant = await registerTenant(saga.services, tenantOwner, { name });
    const execution = await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    const [database] = await saga.services.databases
      .ofTenant(tenant.id)
      .then((dbs) => dbs.filter((d) => d.isPrimary));
    const all = await saga.services.control.query<{ id: string; status: string; databaseName: string }>(
      `select id, status, database_name as "databaseName" from tenant_databases where tenant_id = :tenantId`,
      { tenantId: tenant.id },
    );
    return { tenant, owner: tenantOwner, execution, database, record: all[0] };
  }

  /** What exists on the cluster and in the secret store for a tenant. */
  async function leftovers(tenantId: string, databaseName: string | undefined) {
    const admin = await saga.admin();
    try {
      const databases = await admin.query('select datname from pg_database where datname = $1', [
        databaseName ?? '',
      ]);
      const roles = await admin.query('select rolname from pg_roles where rolname = $1', [
        roleNameFor(tenantId),
      ]);
      const secret = await saga.secrets
        .getSecretValue(secretNameFor(saga.stage, tenantId))
        .then(() => true)
        .catch((error: unknown) => (error instanceof SecretNotFound ? false : Promise.reject(error)));
      return { databases: databases.rowCount, roles: roles.rowCount, secret };
    } finally {
      await admin.end();
    }
  }

  it('provisions a tenant: database, role and secret exist, and it is active', async () => {
    const { tenant, execution, record } = await register('Happy path');

    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.steps.map((s) => s.name)).toEqual([
      'Operation',
      'PlaceDatabase',
      'EnsureTenantSecret',
      'CreateRoleAndDatabase',
      'ApplyBaselineSchema',
      // The Choice that sends a restore to RestoreDatabase (docs/backups.md); none here.
      'RestoreOrActivate',
      'ActivateDatabase',
    ]);
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('active');
    expect(record?.status).toBe('active');
    expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
      databases: 1,
      roles: 1,
      secret: true,
    });
  });

  it('runs the steps as the master, which is no superuser, on a control database the master owns', async () => {
    const { tenant } = await register('As the master');

    const admin = await saga.admin();
    try {
      const control = await admin.query<{ owner: string }>(
        'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
        [saga.controlDatabase],
      );
      const master = await admin.query<{ rolsuper: boolean }>(
        'select rolsuper from pg_roles where rolname = $1',
        [MASTER_USER],
      );
      // CreateRoleAndDatabase grants the tenant role to current_user, whoever ran the step (which,
      // not being a superuser, also holds the ADMIN membership PostgreSQL gives a role's creator).
      const members = await admin.query<{ member: string }>(
        `select distinct pg_get_userbyid(member) as member from pg_auth_members
          where roleid = (select oid from pg_roles where rolname = $1)`,
        [roleNameFor(tenant.id)],
      );
      expect(control.rows).toEqual([{ owner: MASTER_USER }]);
      expect(master.rows).toEqual([{ rolsuper: false }]);
      expect(members.rows).toEqual([{ member: MASTER_USER }]);
    } finally {
      await admin.end();
    }
  });

  const steps: Array<[ProvisioningStep, 'before' | 'after']> = [
    ['PlaceDatabase', 'before'],
    ['PlaceDatabase', 'after'],
    ['EnsureTenantSecret', 'before'],
    ['EnsureTenantSecret', 'after'],
    ['CreateRoleAndDatabase', 'before'],
    ['CreateRoleAndDatabase', 'after'],
    ['ApplyBaselineSchema', 'before'],
    ['ApplyBaselineSchema', 'after'],
    ['ActivateDatabase', 'before'],
  ];

  it.each(steps)(
    'a failure %s (%s its work) leaves no database, role or secret, and the tenant failed',
    async (step, when) => {
      saga.faults = [{ step, when, error: new InjectedFailure(`boom in ${step}`), times: 1 }];

      const { tenant, execution, record } = await register(`Fails at ${step} ${when}`);

      expect(execution?.status).toBe('FAILED');
      expect(execution?.steps.map((s) => s.name)).toContain('CompensateProvisioning');
      const stored = await saga.services.tenants.get(tenant.id);
      expect(stored?.status).toBe('failed');
      expect(stored?.statusReason).toMatch(/InjectedFailure/);
      expect(record?.status).toBe('failed');
      expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
        databases: 0,
        roles: 0,
        secret: false,
      });
    },
  );

  it('retries a transient failure and then succeeds, with the retry in the step history', async () => {
    saga.faults = [
      { step: 'CreateRoleAndDatabase', when: 'after', error: new TransientError('resuming'), times: 2 },
    ];

    const { tenant, execution } = await register('Transient');

    expect(execution?.status).toBe('SUCCEEDED');
    expect(execution?.steps.find((s) => s.name === 'CreateRoleAndDatabase')?.retries).toBe(2);
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('active');
  });

  it('provisions 30 tenants at once on one cluster: catalog changes take turns, all become active', async () => {
    saga.faults = [];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => register(`Crowd ${i}`)));

    const statuses = await Promise.all(
      results.map(async ({ tenant }) => {
        const stored = await saga.services.tenants.get(tenant.id);
        return `${stored?.status}${stored?.statusReason ? `: ${stored.statusReason}` : ''}`;
      }),
    );
    expect(statuses).toEqual(Array(30).fill('active'));
  }, 60_000);

  it('running the workflow again for the same tenant makes one of everything', async () => {
    saga.faults = [];
    const { tenant, record } = await register('Twice');
    const databaseId = record?.id ?? '';

    await saga.workflows.start(`again-${databaseId}`, {
      operation: 'provision',
      tenantId: tenant.id,
      databaseId,
    });
    const again = await saga.workflows.waitFor(`again-${databaseId}`);
    // Asking for the tenant's provisioning again runs its next attempt (the first name has closed).
    const third = await startWorkflow(saga.workflows, provisioningExecutionName(tenant.id), {
      operation: 'provision',
      tenantId: tenant.id,
      databaseId,
    });
    const thirdRun = await saga.workflows.waitFor(third.name);

    expect(again?.status).toBe('SUCCEEDED');
    expect(third.attempt).toBe(2);
    expect(thirdRun?.status).toBe('SUCCEEDED');
    expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
      databases: 1,
      roles: 1,
      secret: true,
    });
    expect(await saga.services.databases.ofTenant(tenant.id)).toHaveLength(1);
    expect((await saga.secrets.listSecrets(secretNameFor(saga.stage, tenant.id))).length).toBe(1);
    expect(saga.runner.list().filter((e) => e.name === provisioningExecutionName(tenant.id))).toHaveLength(1);
  });

  it('offboards: databases, role, secret and memberships go; the tenant stays as deleted; again is safe', async () => {
    saga.faults = [];
    const { tenant, owner: tenantOwner, record } = await register('Offboarded');
    await saga.services.tenants.transition(tenant.id, ['active'], 'deleting');

    await saga.workflows.start(`offboard-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const offboarded = await saga.workflows.waitFor(`offboard-${tenant.id}`);
    await saga.workflows.start(`offboard-again-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const again = await saga.workflows.waitFor(`offboard-again-${tenant.id}`);

    expect(offboarded?.status).toBe('SUCCEEDED');
    expect(again?.status).toBe('SUCCEEDED');
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleted');
    expect(
      saga.published.filter(
        (e) =>
          e.detailType === 'Tenant Offboarded' && (e.detail as { tenantId: string }).tenantId === tenant.id,
      ),
    ).toHaveLength(1);
    expect(await saga.services.memberships.ofUser(tenantOwner.userId)).toEqual([]);
    expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
      databases: 0,
      roles: 0,
      secret: false,
    });
  });

  it('a compensation that fails too still ends failed: the tenant and database are failed with the reason', async () => {
    saga.faults = [
      { step: 'CreateRoleAndDatabase', when: 'after', error: new InjectedFailure('boom'), times: 1 },
      {
        step: 'CompensateProvisioning',
        when: 'before',
        error: new InjectedFailure('cleanup broke'),
        times: 1,
      },
    ];

    const { tenant, execution, record } = await register('Compensation fails');

    expect(execution?.status).toBe('FAILED');
    expect(execution?.error).toBe('CompensationFailed');
    expect(execution?.steps.map((s) => [s.name, s.status])).toEqual(
      expect.arrayContaining([
        ['CompensateProvisioning', 'CAUGHT'],
        ['RecordProvisioningFailure', 'SUCCEEDED'],
        ['CompensationFailed', 'FAILED'],
      ]),
    );
    const stored = await saga.services.tenants.get(tenant.id);
    expect(stored?.status).toBe('failed');
    expect(stored?.statusReason).toBe(
      'InjectedFailure during provisioning; the cleanup failed too (InjectedFailure)',
    );
    expect(record?.status).toBe('failed');
    // Compensation could not run: what it would have removed is still there, for an operator.
    expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
      databases: 1,
      roles: 1,
      secret: true,
    });
  });

  it('re-running an offboard whose execution failed runs it again, under the next attempt name', async () => {
    saga.faults = [];
    const { tenant, record } = await register('Offboarded on the second try');
    saga.faults = [
      { step: 'OffboardTenant', when: 'before', error: new InjectedFailure('bus down'), times: 1 },
    ];
    await offboard(saga.services, tenant.id);
    const first = await saga.workflows.waitFor(`offboard-${tenant.id}`);
    expect(first?.status).toBe('FAILED');
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleting');

    // Act: the owner asks again (DELETE /tenants/{tenantId} is safe to repeat).
    await offboard(saga.services, tenant.id);
    const second = await saga.workflows.waitFor(attemptName(`offboard-${tenant.id}`, 2));

    expect(second?.status).toBe('SUCCEEDED');
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleted');
    expect(await leftovers(tenant.id, record?.databaseName)).toEqual({
      databases: 0,
      roles: 0,
      secret: false,
    });
  });

  it('re-running a provision whose execution closed unfinished runs the next attempt, and the status shows it', async () => {
    saga.faults = [];
    const tenantOwner = owner();
    const key = `retry-${randomUUID()}`;
    const tenant = await registerTenant(saga.services, tenantOwner, { name: 'Interrupted' }, key);
    await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    // Arrange: as if that execution had closed before activating (the local platform stopped
    // mid-run: Local.Interrupted), leaving the tenant provisioning.
    await saga.services.control.execute(
      "update tenants set status = 'provisioning', status_reason = null where id = :tenantId",
      { tenantId: tenant.id },
    );
    await saga.services.control.execute(
      "update tenant_databases set status = 'provisioning' where tenant_id = :tenantId",
      { tenantId: tenant.id },
    );

    // Act: the client retries its registration with the same Idempotency-Key.
    const again = await registerTenant(saga.services, tenantOwner, { name: 'Interrupted' }, key);
    const rerun = await saga.workflows.waitFor(attemptName(provisioningExecutionName(tenant.id), 2));
    const status = await provisioningStatus(saga.services, tenant.id);

    expect(again.id).toBe(tenant.id);
    expect(rerun?.status).toBe('SUCCEEDED');
    expect(status).toMatchObject({ status: 'active', workflow: { attempt: 2, status: 'SUCCEEDED' } });
    expect(status.workflow?.startedAt).toBe(rerun?.startedAt);
    expect(status.workflow?.steps.map((s) => s.name)).toContain('ActivateDatabase');
  });

  it('refuses an operation it does not know, and a database of another tenant', async () => {
    saga.faults = [];
    const first = await register('Owner of the database');
    const second = await register('Someone else');

    await saga.workflows.start('bogus-op', { operation: 'format-disk', tenantId: first.tenant.id });
    await saga.workflows.start('cross-tenant', {
      operation: 'dropDatabase',
      tenantId: second.tenant.id,
      databaseId: first.record?.id ?? '',
    });

    expect((await saga.workflows.waitFor('bogus-op'))?.status).toBe('FAILED');
    expect((await saga.workflows.waitFor('cross-tenant'))?.status).toBe('FAILED');
    expect(await leftovers(first.tenant.id, first.record?.databaseName)).toMatchObject({ databases: 1 });
  });
});

describe('the saga harness', () => {
  it('removes on close the control database, tenant database, role and secret it made', async () => {
    // Arrange
    const info = inject('platform');
    const saga = await startSagaHarness(info);
    const tenant = await registerTenant(
      saga.services,
      { userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` },
      { name: 'Cleaned up' },
    );
    await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    const [database] = await saga.services.databases.ofTenant(tenant.id);
    const admin = await saga.admin();
    const secretsManager = new SecretsManagerClient({
      region: info.region,
      endpoint: info.secretsManager.endpoint,
      credentials: HARNESS_CREDENTIALS,
    });

    try {
      // Act
      await saga.close();

      // Assert
      const databases = await admin.query('select datname from pg_database where datname = any($1)', [
        [saga.controlDatabase, database?.databaseName ?? ''],
      ]);
      const roles = await admin.query('select 1 from pg_roles where rolname = $1', [roleNameFor(tenant.id)]);
      expect(database?.status).toBe('active');
      expect(databases.rows).toEqual([]);
      expect(roles.rows).toEqual([]);
      // Deleted at once, without a recovery window.
      await expect(
        secretsManager.send(new DescribeSecretCommand({ SecretId: secretNameFor(saga.stage, tenant.id) })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      secretsManager.destroy();
      await admin.end();
    }
  });
});
