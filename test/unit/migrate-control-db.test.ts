import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Services } from '#shared/composition/services';

const migrate = vi.hoisted(() => vi.fn());
vi.mock('#shared/control/migrate', () => ({ migrate }));

const { handler: migrator } = await import('#functions/ops/migrate-control-db');
// The services the handler is given: only the control database, which `migrate` (mocked) gets.
const handler = migrator.with({ control: {} } as unknown as Services);

// The custom resource's one physical id: the same on every deploy, so no update replaces it.
const PHYSICAL_ID = 'tenantry-control-database-migrations';

function event(RequestType: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent {
  return {
    RequestType,
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:framework',
    ResponseURL: 'https://cloudformation-custom-resource-response.example/ignored',
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Tenantry-dev-Provisioning/1',
    RequestId: 'request-1',
    LogicalResourceId: 'ControlDatabaseSchema',
    ResourceType: 'Custom::TenantryControlMigrations',
    ResourceProperties: { ServiceToken: 'token', version: '7' },
    ...(RequestType === 'Create'
      ? {}
      : { PhysicalResourceId: PHYSICAL_ID, OldResourceProperties: { ServiceToken: 'token', version: '6' } }),
  } as CloudFormationCustomResourceEvent;
}

describe('control database migration custom resource (Provider framework onEvent handler)', () => {
  beforeEach(() => {
    migrate.mockReset();
  });

  it.each(['Create', 'Update'] as const)('on %s migrates and returns the result as Data', async (type) => {
    migrate.mockResolvedValue({ current: 7, applied: [6, 7] });

    await expect(handler(event(type))).resolves.toEqual({
      PhysicalResourceId: PHYSICAL_ID,
      Data: { current: '7', applied: '6,7' },
    });
    expect(migrate).toHaveBeenCalledTimes(1);
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
