import { describe, expect, it } from 'vitest';
import type { SubtreeMember } from '#shared/control/tenant-paths';
import { planTenantOffboarding } from '#shared/provisioning/offboarding';
import { InvalidProvisioningRequest, type SagaDeps } from '#shared/provisioning/saga';
import { OFFBOARD_CONCURRENCY, provisioningDefinition } from '#shared/workflows/provisioning';

/** The deps planTenantOffboarding reads: the subtree, as TenantHierarchy.subtree answers it (deepest first). */
const depsWith = (subtree: SubtreeMember[]) =>
  ({ hierarchy: { subtree: async () => subtree } }) as unknown as SagaDeps;

const member = (id: string, depth: number, status: SubtreeMember['status'] = 'deleting'): SubtreeMember => ({
  id,
  depth,
  status,
});

describe('the plan of an offboarding', () => {
  it('groups the subtree in levels, deepest first, leaving out what is offboarded already', async () => {
    // Arrange: root → a, b; a → c, d (d offboarded already); c → e
    const subtree = [
      member('e', 3),
      member('c', 2),
      member('d', 2, 'deleted'),
      member('a', 1),
      member('b', 1),
      member('root', 0),
    ];

    // Act
    const plan = await planTenantOffboarding(depsWith(subtree), 'root');

    // Assert
    expect(plan).toEqual({
      tenants: 5,
      levels: [
        { depth: 3, tenants: [{ tenantId: 'e' }] },
        { depth: 2, tenants: [{ tenantId: 'c' }] },
        { depth: 1, tenants: [{ tenantId: 'a' }, { tenantId: 'b' }] },
        { depth: 0, tenants: [{ tenantId: 'root' }] },
      ],
    });
  });

  it('is one level of one tenant for a tenant without children (a plain offboarding)', async () => {
    const plan = await planTenantOffboarding(depsWith([member('leaf', 0)]), 'leaf');

    expect(plan).toEqual({ tenants: 1, levels: [{ depth: 0, tenants: [{ tenantId: 'leaf' }] }] });
  });

  it.each(['active', 'suspended', 'failed', 'provisioning'] as const)(
    'refuses a subtree with a tenant that is %s, not being deleted',
    async (status) => {
      const subtree = [member('child', 1, status), member('root', 0)];

      await expect(planTenantOffboarding(depsWith(subtree), 'root')).rejects.toBeInstanceOf(
        InvalidProvisioningRequest,
      );
    },
  );
});

describe('the offboard operation in the saga definition', () => {
  type State = Record<string, unknown> & {
    ItemProcessor?: { StartAt: string; States: Record<string, State> };
  };
  const { States } = provisioningDefinition((step) => step) as unknown as { States: Record<string, State> };

  it('plans, then offboards level after level (one at a time), each level a Map of its tenants', () => {
    const levels = States.OffboardLevels as State;
    const inner = levels.ItemProcessor?.States.OffboardLevelTenants as State;

    expect(States.PlanTenantOffboarding).toMatchObject({ Next: 'OffboardLevels', ResultPath: '$.plan' });
    expect(levels).toMatchObject({ Type: 'Map', ItemsPath: '$.plan.levels', MaxConcurrency: 1, End: true });
    expect(inner).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.tenants',
      MaxConcurrency: OFFBOARD_CONCURRENCY,
    });
    expect(inner.ItemProcessor?.StartAt).toBe('OffboardTenant');
    // No Catch: a tenant that fails fails its level, and the levels above never run.
    expect(inner.ItemProcessor?.States.OffboardTenant).not.toHaveProperty('Catch');
    expect(inner).not.toHaveProperty('Catch');
    expect(levels).not.toHaveProperty('Catch');
  });
});
