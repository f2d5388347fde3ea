import { logger } from '#shared/core/logger';
import type { PlanSettings } from '#shared/domain/plans';
import type { EventPublisher } from '#shared/ports/event-publisher';
import type { SqlRunner } from '#shared/ports/sql';
import type { TenantStorage } from '#shared/records/storage-snapshot';
import { announceThresholds, SYSTEM_ACTOR } from '#shared/tenancy/quota-thresholds';
import { tenantLimits } from '#shared/tenancy/quotas';

export interface StorageThresholdDeps {
  readonly control: SqlRunner;
  readonly events: EventPublisher;
  readonly settings: { readonly plans?: PlanSettings };
}

/**
 * After a storage snapshot: each measured tenant's bytes against its plan's `storageBytes`; every
 * threshold (80 %, 100 %) the measure has reached is claimed once per period (`limit=<n>`, as for
 * the counted quotas, shared/tenancy/quota-thresholds.ts) and announced the first time, with its
 * audit record. A tenant whose limits cannot be read (offboarded meanwhile) is skipped, logged.
 * Returns how many thresholds were announced.
 */
export async function announceStorageThresholds(
  deps: StorageThresholdDeps,
  measured: readonly TenantStorage[],
  now: Date = new Date(),
): Promise<number> {
  let announced = 0;
  for (const tenant of measured) {
    try {
      const { plan, limits } = await tenantLimits(deps, tenant.tenantId);
      const use = {
        tenantId: tenant.tenantId,
        plan,
        quota: 'storageBytes' as const,
        limit: limits.storageBytes,
        used: tenant.bytes,
      };
      announced += (await announceThresholds(deps, use, SYSTEM_ACTOR, now, -1)).length;
    } catch (error) {
      logger.warn('storage threshold check skipped', { tenantId: tenant.tenantId, error });
    }
  }
  return announced;
}
