import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '#shared/composition/services';

const migrate = vi.hoisted(() => vi.fn());
const ensureApplicationRole = vi.hoisted(() => vi.fn());
const ensurePool = vi.hoisted(() => vi.fn());
const sync = vi.hoisted(() => vi.fn(async () => ({ added: [], closed: [] })));
const registryRunners = vi.hoisted(() => [] as unknown[]);
vi.mock('#shared/control/migrate', () => ({ migrate }));
vi.mock('#shared/control/cluster-registry', () => ({
  ClusterRegistry: class {
    constructor(sql: unknown) {
      registryRunners.push(sql);
    }
    sync = sync;
  },
}));
vi.mock('#shared/control/application-role', async (original) => ({
  ...(await original<typeof import('#shared/control/application-role')>()),
  ensureApplicationRole,
}));
vi.mock('#shared/provisioning/pool', () => ({ ensurePool }));

const { handler: migrator } = await import('#functions/ops/migrate-control-db');
const APP_SECRET =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:tenantry/dev/cluster/control-app-AbCdEf';
const APP_CREDENTIALS = { username: 'tenantry_app', password: 'generated-password' };
const POOL_SECRET =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:tenantry/dev/cluster/pool-app-GhIjKl';
const POOL_CREDENTIALS = { username: 'tenantry_pool_app', password: "pool-pass'word" };
const masterControl = {};
const secrets = {
  getSecretValue: vi.fn(async (arn: string) =>
    JSON.stringify(arn === POOL_SECRET ? POOL_CREDENTIALS : APP_CREDENTIALS),
  ),
};
const clusters = { ids: () => ['primary', 'c2'], poolSecretOf: () => POOL_SECRET };
/** The services the handler is given: the master's control runner (which `migrate`, mocked, gets) and the app secret. */
const servicesWith = (controlSecretArn: string | undefined) =>
  ({
    masterControl,
    secrets,
    clusters,
    settings: { stage: 'dev', controlDatabase: 'control', ...(controlSecretArn ? { controlSecretArn } : {}) },
  }) as unknown as Services;
const handler = migrator.with(servicesWith(APP_SECRET));

// The custom resource's one physical id: the same on every deploy, so no update replaces it.
const PHYSICAL_ID = 'tenantry-control-database-migrations';

const CLUSTERS = JSON.stringify([
  { id: 'primary', name: 'Primary', capacity: 400 },
  { id: 'c2', name: 'c2', capacity: 300 },
]);

function event(RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/ignored',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Tenantry-dev-Provisioning/1',
    RequestId: 'request-1',
    LogicalResourceId: 'ControlDatabaseSchema',
    ResourceType: 'Custom::TenantryControlMigrations',
    ResourceProperties: { ServiceToken: 'token', version: '7', clusters: CLUSTERS },
    ...(RequestType === 'Create'
      ? {}
      : { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: { ServiceToken: 'token', version: '6' } }),
  } as CloudFormationCustomResourceEvent;
}

describe('control database migration custom resource (Provider framework onEvent handler)', () => {
  beforeEach(() => {
    migrate.mockReset();
    ensureApplicationRole.mockReset();
    ensurePool.mockReset();
    secrets.getSecretValue.mockClear();
    sync.mockClear();
    registryRunners.length = 0;
  });

  it('records the configured clusters in the registry, as the master, after migrating', async () => {
    migrate.mockResolvedValue({ current: 14, applied: [14] });

    await handler(event('Update'));

    expect(registryRunners).toEqual([masterControl]);
    expect(sync).toHaveBeenCalledWith([
      { id: 'primary', name: 'Primary', capacity: 400 },
      { id: 'c2', name: 'c2', capacity: 300 },
    ]);
    expect(migrate.mock.invocationCallOrder[0]).toBeLessThan(sync.mock.invocationCallOrder[0] ?? 0);
  });

  it('records the one cluster primary for a resource without the clusters property', async () => {
    migrate.mockResolvedValue({ current: 14, applied: [] });
    const older = event('Update');
    const { clusters: _clusters, ...properties } = older.ResourceProperties;

    await handler({ ...older, ResourceProperties: properties } as CloudFormationCustomResourceEvent);

    expect(sync).toHaveBeenCalledWith([{ id: 'primary', name: 'primary', capacity: 500 }]);
  });

  it('fails the resource on a clusters property that is not a valid list, before migrating anything', async () => {
    const bad = event('Update');

    await expect(
      handler({ ...bad, ResourceProperties: { ...bad.ResourceProperties, clusters: '[{"id":"c2"}]' } }),
    ).rejects.toThrow('primary');
    expect(migrate).not.toHaveBeenCalled();
    expect(sync).not.toHaveBeenCalled();
  });

  it.each(['Create', 'Update'] as const)('on %s migrates and returns the result as Data', async (type) => {
    migrate.mockResolvedValue({ current: 7, applied: [6, 7] });

    await expect(handler(event(type))).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_ID,
      Data: { current: '7', applied: '6,7' },
    });
    expect(migrate).toHaveBeenCalledTimes(1);
    // As the master, then the application role from its own secret, after the migrations.
    expect(migrate.mock.calls[0]?.[0]).toBe(masterControl);
    expect(secrets.getSecretValue).toHaveBeenCalledWith(APP_SECRET);
    expect(ensureApplicationRole).toHaveBeenCalledWith(masterControl, APP_CREDENTIALS, 'control');
    // Then the pool of every cluster, its password from the pool secret as a SQL literal.
    expect(ensurePool.mock.calls).toEqual(
      ['primary', 'c2'].map((clusterId) => [
        clusters,
        clusterId,
        { username: 'tenantry_pool_app', passwordLiteral: "'pool-pass''word'" },
      ]),
    );
  });

  it('fails the resource when the pool of a cluster cannot be made', async () => {
    migrate.mockResolvedValue({ current: 7, applied: [] });
    ensurePool.mockRejectedValue(new Error('permission denied to create database'));

    await expect(handler(event('Update'))).rejects.toThrow('permission denied to create database');
  });

  it('fails the resource without the application secret, after migrating, granting nothing', async () => {
    migrate.mockResolvedValue({ current: 7, applied: [] });

    await expect(migrator.with(servicesWith(undefined))(event('Create'))).rejects.toThrow(
      'CONTROL_SECRET_ARN: missing',
    );
    expect(ensureApplicationRole).not.toHaveBeenCalled();
  });

  it('fails the resource when granting the application role fails', async () => {
    migrate.mockResolvedValue({ current: 7, applied: [] });
    ensureApplicationRole.mockRejectedValue(new Error('permission denied to alter role'));

    await expect(handler(event('Update'))).rejects.toThrow('permission denied to alter role');
  });

  it('reports a failed migration by throwing it, so the framework fails the resource', async () => {
    migrate.mockRejectedValue(new Error('relation "tenants" already exists'));

    await expect(handler(event('Update'))).rejects.toThrow('relation "tenants" already exists');
  });

  it('leaves the database alone on Delete', async () => {
    await expect(handler(event('Delete'))).resolves.toEqual({ PhysicalResourceId: PHYSICAL_ID });
    expect(migrate).not.toHaveBeenCalled();
  });

  it('does not answer CloudFormation itself', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    migrate.mockResolvedValue({ current: 7, applied: [] });

    await handler(event('Create'));

    expect(fetchSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
  });
});
