import 'aws-sdk-client-mock-vitest/extend';
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { teardownTenantSecrets } from '#infra/ops/tenant-secrets-teardown';
import { TENANT_ID_TAG, tenantSecretPrefix } from '#infra/stacks/provisioning-stack';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';
import { secretNameFor, TENANT_TAG } from '#shared/provisioning/names';

/*
 * Tenant secrets are created at runtime by the provisioning saga, so no stack owns them and
 * `cdk destroy` leaves them behind: `npm run teardown-secrets` removes them (docs/operations.md).
 * ListSecrets' `name` filter is a case-sensitive prefix match and leaves out secrets already
 * scheduled for deletion:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html
 */

const client = new SecretsManagerClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
});
const secretsManager = mockClient(client);
const store = new SecretsManagerStore(client);

const TENANT_A = 't_aaaaaaaaaaaaaaaaaaaa';
const TENANT_B = 't_bbbbbbbbbbbbbbbbbbbb';
const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbCdEf`;
const secret = (name: string, tags: Record<string, string>) => ({
  Name: name,
  ARN: arnOf(name),
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  CreatedDate: new Date('2025-01-01T00:00:00Z'),
});

beforeEach(() => {
  secretsManager.reset();
  // The adapter looks a secret up before deleting it (see SecretsManagerStore.deleteSecret).
  secretsManager.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => ({
    ARN: input.SecretId.startsWith('arn:') ? input.SecretId : arnOf(input.SecretId),
  }));
  secretsManager.on(DeleteSecretCommand).resolves({});
});

describe('the tenant secrets teardown', () => {
  it('names secrets the way provisioning does and IAM scopes them', () => {
    expect(secretNameFor('dev', TENANT_A).startsWith(tenantSecretPrefix('dev'))).toBe(true);
    expect(TENANT_ID_TAG).toBe(TENANT_TAG);
  });

  it('lists every page of the stage’s tenant secrets and deletes nothing without --delete', async () => {
    // Arrange: two pages; the second page's secret of another stage and the untagged one are foreign
    secretsManager
      .on(ListSecretsCommand, { NextToken: undefined })
      .resolves({
        SecretList: [secret(secretNameFor('dev', TENANT_A), { [TENANT_ID_TAG]: TENANT_A })],
        NextToken: 'page-2',
      })
      .on(ListSecretsCommand, { NextToken: 'page-2' })
      .resolves({
        SecretList: [
          secret(secretNameFor('dev', TENANT_B), { [TENANT_ID_TAG]: TENANT_B }),
          secret(`${tenantSecretPrefix('dev')}hand-made`, {}),
          secret(secretNameFor('prod', TENANT_A), { [TENANT_ID_TAG]: TENANT_A }),
        ],
      });

    // Act
    const result = await teardownTenantSecrets(store, 'dev', { delete: false });

    // Assert
    expect(result).toEqual({
      deleted: false,
      secrets: [
        {
          name: secretNameFor('dev', TENANT_A),
          arn: arnOf(secretNameFor('dev', TENANT_A)),
          tenantId: TENANT_A,
        },
        {
          name: secretNameFor('dev', TENANT_B),
          arn: arnOf(secretNameFor('dev', TENANT_B)),
          tenantId: TENANT_B,
        },
      ],
    });
    expect(secretsManager).toHaveReceivedCommandWith(ListSecretsCommand, {
      Filters: [{ Key: 'name', Values: [tenantSecretPrefix('dev')] }],
    });
    expect(secretsManager).toHaveReceivedCommandTimes(ListSecretsCommand, 2);
    expect(secretsManager).not.toHaveReceivedCommand(DeleteSecretCommand);
  });

  it('with --delete, deletes exactly the tagged secrets of the stage, without a recovery window', async () => {
    // Arrange
    secretsManager.on(ListSecretsCommand).resolves({
      SecretList: [
        secret(secretNameFor('dev', TENANT_A), { [TENANT_ID_TAG]: TENANT_A }),
        secret(secretNameFor('dev', TENANT_B), { [TENANT_ID_TAG]: '' }),
        secret('tenantry/dev/other', { [TENANT_ID_TAG]: TENANT_B }),
      ],
    });

    // Act
    const result = await teardownTenantSecrets(store, 'dev', { delete: true });

    // Assert
    expect(result.deleted).toBe(true);
    expect(result.secrets.map((s) => s.tenantId)).toEqual([TENANT_A]);
    expect(secretsManager).toHaveReceivedCommandTimes(DeleteSecretCommand, 1);
    expect(secretsManager).toHaveReceivedCommandWith(DeleteSecretCommand, {
      SecretId: arnOf(secretNameFor('dev', TENANT_A)),
      ForceDeleteWithoutRecovery: true,
    });
  });

  it('can run again: a secret deleted meanwhile is not an error', async () => {
    secretsManager.on(ListSecretsCommand).resolves({
      SecretList: [secret(secretNameFor('dev', TENANT_A), { [TENANT_ID_TAG]: TENANT_A })],
    });
    secretsManager
      .on(DescribeSecretCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));

    await expect(teardownTenantSecrets(store, 'dev', { delete: true })).resolves.toMatchObject({
      deleted: true,
    });
  });

  it('refuses a malformed stage rather than listing a wider prefix', async () => {
    await expect(teardownTenantSecrets(store, '', { delete: true })).rejects.toThrow(/Invalid stage/);
    await expect(teardownTenantSecrets(store, 'dev/tenants', { delete: true })).rejects.toThrow(
      /Invalid stage/,
    );
    expect(secretsManager.calls()).toHaveLength(0);
  });
});
