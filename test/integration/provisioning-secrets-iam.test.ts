import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '#infra/app';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { secretNameFor, TENANT_TAG } from '#shared/provisioning/names';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';
import {
  type PolicyStatement,
  roleStatements,
  TaggedSecretsManager,
} from '../support/tagged-secrets-manager.ts';

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

class TransientError extends Error {
  override readonly name = 'TransientError';
}

const secretStatements = (statements: PolicyStatement[]) =>
  statements.filter((statement) =>
    [statement.Action].flat().some((action) => action.startsWith('secretsmanager:')),
  );

/**
 * The saga's secret calls as AWS answers them under the provisioning steps' own policy, taken from
 * the CDK app for this stage: use of a tenant secret is allowed only when the secret carries the
 * tenant tag, so asking for one that does not exist yet is AccessDeniedException, not
 * ResourceNotFoundException. The steps run through the real Secrets Manager adapter.
 */
describe('the provisioning saga under the deployed Secrets Manager policy', () => {
  const stage = `iam${randomUUID().slice(0, 6)}`;
  let secretsManager: TaggedSecretsManager;
  let saga: SagaHarness;

  beforeAll(async () => {
    const built = buildApp({ stage, bundle: false, cloudFormationValidation: false });
    const steps = built.provisioning.stepFunctions;
    const statements = secretStatements(roleStatements(steps.EnsureTenantSecret.role));
    // Every step has the same secret statements, so one policy stands for all of them.
    for (const step of Object.values(steps)) {
      expect(secretStatements(roleStatements(step.role))).toEqual(statements);
    }
    secretsManager = new TaggedSecretsManager(statements);
    saga = await startSagaHarness(inject('platform'), {
      stage,
      secrets: new SecretsManagerStore(secretsManager.client),
    });
  });
  afterAll(async () => {
    await saga?.close();
  });

  async function register(name: string) {
    const owner = { userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` };
    const tenant = await registerTenant(saga.services, owner, { name });
    const execution = await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    return { tenant, execution, stored: await saga.services.tenants.get(tenant.id) };
  }

  it('refuses, as AWS does, to read a tenant secret that does not exist', async () => {
    await expect(
      saga.secrets.getSecretValue(secretNameFor(stage, 't_aaaaaaaaaaaaaaaaaaaa')),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('provisions a tenant: the secret is created first, tagged, and no call is refused', async () => {
    secretsManager.refusals.length = 0;
    saga.faults = [];

    const { tenant, execution, stored } = await register('Created first');

    expect(secretsManager.refusals).toEqual([]);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(stored?.status).toBe('active');
    expect(secretsManager.secrets.get(secretNameFor(stage, tenant.id))?.tags).toEqual({
      [TENANT_TAG]: tenant.id,
    });
  });

  it('a retried EnsureTenantSecret reads back the secret it made, and keeps one', async () => {
    secretsManager.refusals.length = 0;
    saga.faults = [
      { step: 'EnsureTenantSecret', when: 'after', error: new TransientError('lost'), times: 1 },
    ];

    const { tenant, execution, stored } = await register('Secret step retried');

    expect(secretsManager.refusals).toEqual([]);
    expect(execution?.steps.find((s) => s.name === 'EnsureTenantSecret')?.retries).toBe(1);
    expect(stored?.status).toBe('active');
    const [database] = await saga.services.databases.ofTenant(tenant.id);
    expect(database?.secretArn).toBe(secretsManager.secrets.get(secretNameFor(stage, tenant.id))?.arn);
  });

  it('compensates a failure from before the secret exists without a refused call', async () => {
    secretsManager.refusals.length = 0;
    saga.faults = [{ step: 'PlaceDatabase', when: 'before', error: new InjectedFailure('boom'), times: 1 }];

    const { tenant, execution, stored } = await register('Fails before its secret');

    expect(secretsManager.refusals).toEqual([]);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ProvisioningFailed' });
    expect(execution?.steps.find((s) => s.name === 'CompensateProvisioning')?.status).toBe('SUCCEEDED');
    expect(stored).toMatchObject({ status: 'failed', statusReason: 'InjectedFailure during provisioning' });
    expect(secretsManager.secrets.has(secretNameFor(stage, tenant.id))).toBe(false);
  });

  it('offboards twice: the second run finds the secret gone without a refused call', async () => {
    saga.faults = [];
    const { tenant } = await register('Offboarded twice');
    secretsManager.refusals.length = 0;
    await saga.services.tenants.transition(tenant.id, ['active'], 'deleting');

    await saga.workflows.start(`offboard-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const first = await saga.workflows.waitFor(`offboard-${tenant.id}`);
    // As if the first run had stopped after removing the secret: the tenant is still deleting.
    await saga.services.tenants.transition(tenant.id, ['deleted'], 'deleting');
    await saga.workflows.start(`offboard-again-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const second = await saga.workflows.waitFor(`offboard-again-${tenant.id}`);

    expect(secretsManager.refusals).toEqual([]);
    expect([first?.status, second?.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleted');
    expect(secretsManager.secrets.has(secretNameFor(stage, tenant.id))).toBe(false);
  });
});
