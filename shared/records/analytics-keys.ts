/**
 * Keys of the fleet analytics rollups (docs/analytics.md), in the usage table. A month is one
 * partition of small items, so `GET /platform/analytics` reads one Query per month, never the raw
 * records:
 *
 * - `ANALYTICS#<YYYY-MM>` / `TENANT#<tenantId>`: a tenant's month — apiCalls, requests, errors
 *   (moved by `ADD`) and storageBytes (the month's peak, a conditional `SET`);
 * - `ANALYTICS#<YYYY-MM>` / `FLEET`: the fleet's requests, errors and latency histogram;
 * - `ANALYTICS#<YYYY-MM>` / `SNAPSHOT`: the tenants by status, plan and isolation at the month's close;
 * - `ACTIVE#<YYYY-MM>` / `USER#<userId>`: one item per user active in the month (counted, never listed).
 */
export const analyticsKeys = {
  partition: (month: string) => `ANALYTICS#${month}`,
  tenant: (month: string, tenantId: string) => ({ pk: `ANALYTICS#${month}`, sk: `TENANT#${tenantId}` }),
  fleet: (month: string) => ({ pk: `ANALYTICS#${month}`, sk: 'FLEET' }),
  snapshot: (month: string) => ({ pk: `ANALYTICS#${month}`, sk: 'SNAPSHOT' }),
  activePartition: (month: string) => `ACTIVE#${month}`,
  activeUser: (month: string, userId: string) => ({ pk: `ACTIVE#${month}`, sk: `USER#${userId}` }),
};

/** The usage resource types the tenant-month items keep: calls are summed, storage is its peak. */
export const ANALYTICS_USAGE = { api_calls: 'apiCalls', storage_bytes: 'storageBytes' } as const;

export const isAnalyticsUsage = (resourceType: string): resourceType is keyof typeof ANALYTICS_USAGE =>
  Object.hasOwn(ANALYTICS_USAGE, resourceType);
