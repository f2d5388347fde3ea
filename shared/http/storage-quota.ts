import type { MiddlewareObj } from '@middy/core';
import { ACCESS_CACHE_MS } from '#shared/control/access-policy';
import { logger } from '#shared/core/logger';
import { QuotaExceeded } from '#shared/errors';
import { type HttpEvent, type HttpRequest, type HttpResponse, stateOf } from '#shared/http/middleware';
import type { RouteSpec } from '#shared/routes/types';
import { meteredUsageFrom, type RollupReader } from '#shared/tenancy/quotas';

/**
 * The storage limit (issue 15) on the writes that grow a tenant's data (routes marked
 * `growsStorage`: row inserts, batches, imports, table creation): once the latest storage snapshot
 * (the daily `storage_bytes` measure, shared/records/storage-snapshot.ts) has reached the plan's
 * `storageBytes`, they answer 403 `quota_exceeded` (`quota: "storageBytes"`, `limit`, `used`) and
 * write nothing; reads, updates and deletes keep working, so a tenant can make room.
 *
 * The snapshot is read from the usage rollups and kept per function and tenant as long as a
 * membership answer is (`accessCacheMs`, at most 30 s): a write costs no extra read in steady
 * state. Enforcement is as fresh as the snapshot: a tenant may pass its limit by what it writes
 * between two snapshots. The usage store failing lets the write through (logged).
 */
export interface StorageQuotaOptions {
  readonly usage: () => RollupReader;
  readonly cacheMs: () => number | undefined;
}

export function storageQuota(
  route: RouteSpec,
  options: StorageQuotaOptions,
): MiddlewareObj<HttpEvent, HttpResponse> {
  const cached = new Map<string, { readonly bytes: number; readonly until: number }>();
  return {
    name: 'storage-quota',
    before: async (request: HttpRequest) => {
      const grant = stateOf(request.event).grant;
      if (!route.growsStorage || !grant) return;
      const limit = grant.limits.storageBytes;
      const now = Date.now();
      let used = cached.get(grant.tenantId);
      if (!used || used.until <= now) {
        try {
          const { storageBytes } = await meteredUsageFrom(options.usage())(grant.tenantId, new Date(now));
          used = {
            bytes: storageBytes,
            until: now + Math.min(options.cacheMs() ?? ACCESS_CACHE_MS, ACCESS_CACHE_MS),
          };
          cached.set(grant.tenantId, used);
        } catch (error) {
          logger.error('storage usage unavailable; the write is let through', { error });
          return;
        }
      }
      if (used.bytes >= limit) throw new QuotaExceeded('storageBytes', limit, used.bytes);
    },
  };
}
