import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { SecretNotFound } from '#shared/ports/secrets';
import { secretNameFor, TENANT_TAG } from '#shared/provisioning/names';
import { provisioningExecutionName, registerTenant } from '#shared/tenancy/register-tenant';
import { provisioningSteps } from '#shared/workflows/provisioning';
import { HARNESS_CREDENTIALS, type SagaHarness, startSagaHarness } from '../support/saga-harness.ts';

class InjectedFailure extends Error {
  override readonly name = 'InjectedFailure';
}

class TransientError extends Error {
  override readonly name = 'TransientError';
}

const info = inject('platform');

const secretsManager = (accessKeyId: string) =>
  new SecretsManagerClient({
    region: info.region,
    endpoint: info.secretsManager.endpoint,
    credentials: { accessKeyId, secretAccessKey: 'x' },
  });

/**
 * The saga's secret calls as AWS answers them: every step signs with its own function's key and
 * the IAM stand-in judges each call by that function's role in the synthesized templates. Use of a
 * tenant secret is allowed only when the secret carries the tenant tag, so asking for one that
 * does not exist yet is AccessDeniedException, not ResourceNotFoundException. The steps run
 * through the real Secrets Manager adapter on the Secrets Manager stand-in.
 */
describe('the provisioning saga under the deployed Secrets Manager policy', () => {
  let saga: SagaHarness;
  /** An administrator's view of the stand-in, to see what the saga left. */
  let operator: SecretsManagerClient;

  beforeAll(async () => {
    saga = await startSagaHarness(info, { credentials: 'functions' });
    operator = secretsManager(HARNESS_CREDENTIALS.accessKeyId);
  });
  afterAll(async () => {
    operator?.destroy();
    await saga?.close();
  });

  /** The secret's ARN and tags, or null when there is none. */
  async function secretOf(tenantId: string) {
    try {
      const described = await operator.send(
        new DescribeSecretCommand({ SecretId: secretNameFor(saga.stage, tenantId) }),
      );
      const tags = Object.fromEntries((described.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
      return { arn: described.ARN, tags };
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return null;
      throw error;
    }
  }

  async function register(name: string) {
    const owner = { userId: randomUUID(), email: `owner-${randomUUID().slice(0, 8)}@example.com` };
    const tenant = await registerTenant(saga.services, owner, { name });
    const execution = await saga.workflows.waitFor(provisioningExecutionName(tenant.id));
    return { tenant, execution, stored: await saga.services.tenants.get(tenant.id) };
  }

  it("refuses, as AWS does, a step's read of a tenant secret that does not exist", async () => {
    const name = secretNameFor(saga.stage, 't_aaaaaaaaaaaaaaaaaaaa');
    const ownKey = info.functions[provisioningSteps.EnsureTenantSecret]?.accessKeyId ?? '';
    const client = secretsManager(ownKey);

    try {
      await expect(new SecretsManagerStore(client).getSecretValue(name)).rejects.toMatchObject({
        name: 'AccessDeniedException',
      });
      // An administrator's key is not refused: the secret is just not there.
      await expect(saga.secrets.getSecretValue(name)).rejects.toBeInstanceOf(SecretNotFound);
    } finally {
      client.destroy();
    }
  });

  it('provisions a tenant: the secret is created first, tagged, and no call is refused', async () => {
    saga.refusals.length = 0;
    saga.faults = [];

    const { tenant, execution, stored } = await register('Created first');

    expect(saga.refusals).toEqual([]);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(stored?.status).toBe('active');
    expect((await secretOf(tenant.id))?.tags).toEqual({ [TENANT_TAG]: tenant.id });
  });

  it('a retried EnsureTenantSecret reads back the secret it made, and keeps one', async () => {
    saga.refusals.length = 0;
    saga.faults = [
      { step: 'EnsureTenantSecret', when: 'after', error: new TransientError('lost'), times: 1 },
    ];

    const { tenant, execution, stored } = await register('Secret step retried');

    expect(saga.refusals).toEqual([]);
    expect(execution?.steps.find((s) => s.name === 'EnsureTenantSecret')?.retries).toBe(1);
    expect(stored?.status).toBe('active');
    const [database] = await saga.services.databases.ofTenant(tenant.id);
    expect(database?.secretArn).toBe((await secretOf(tenant.id))?.arn);
  });

  it('compensates a failure from before the secret exists without a refused call', async () => {
    saga.refusals.length = 0;
    saga.faults = [{ step: 'PlaceDatabase', when: 'before', error: new InjectedFailure('boom'), times: 1 }];

    const { tenant, execution, stored } = await register('Fails before its secret');

    expect(saga.refusals).toEqual([]);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ProvisioningFailed' });
    expect(execution?.steps.find((s) => s.name === 'CompensateProvisioning')?.status).toBe('SUCCEEDED');
    expect(stored).toMatchObject({ status: 'failed', statusReason: 'InjectedFailure during provisioning' });
    expect(await secretOf(tenant.id)).toBeNull();
  });

  it('offboards twice: the second run finds the secret gone without a refused call', async () => {
    saga.faults = [];
    const { tenant } = await register('Offboarded twice');
    saga.refusals.length = 0;
    await saga.services.tenants.transition(tenant.id, ['active'], 'deleting');

    await saga.workflows.start(`offboard-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const first = await saga.workflows.waitFor(`offboard-${tenant.id}`);
    // As if the first run had stopped after removing the secret: the tenant is still deleting.
    await saga.services.tenants.transition(tenant.id, ['deleted'], 'deleting');
    await saga.workflows.start(`offboard-again-${tenant.id}`, { operation: 'offboard', tenantId: tenant.id });
    const second = await saga.workflows.waitFor(`offboard-again-${tenant.id}`);

    expect(saga.refusals).toEqual([]);
    expect([first?.status, second?.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect((await saga.services.tenants.get(tenant.id))?.status).toBe('deleted');
    expect(await secretOf(tenant.id)).toBeNull();
  });
});
