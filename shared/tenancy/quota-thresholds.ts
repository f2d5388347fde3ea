import { logger } from '#shared/core/logger';
import { AuditRecord, QuotaThresholdReached } from '#shared/events/events';
import { type EventPublisher, type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import type { SqlRunner } from '#shared/ports/sql';
import type { QuotaUse } from '#shared/tenancy/quotas';

export const QUOTA_THRESHOLDS = [80, 100] as const;
export type QuotaThreshold = (typeof QUOTA_THRESHOLDS)[number];

/** The audit action of a threshold reached (the tenant's audit log shows it beside the request). */
export const THRESHOLD_AUDIT_ACTION = 'quotas.thresholdReached';

/** Who made the creation that reached a threshold, and in which request. */
export interface QuotaActor {
  readonly userId: string;
  readonly requestId: string;
}

/** A creation not made by a request (a test, a script): audited as the platform's. */
export const SYSTEM_ACTOR: QuotaActor = { userId: 'system', requestId: 'none' };

export interface ThresholdDeps {
  readonly control: SqlRunner;
  readonly events: EventPublisher;
}

/** The count at which `threshold` % of `limit` is reached: 8 of 10 for 80 %, 1 of 1 for both. */
export const thresholdCount = (limit: number, threshold: QuotaThreshold) =>
  Math.ceil((limit * threshold) / 100);

/** The thresholds that going from `before` to `after` crossed (none for a limit of 0: nothing fits). */
export function thresholdsCrossed(limit: number, before: number, after: number): QuotaThreshold[] {
  if (limit <= 0) return [];
  return QUOTA_THRESHOLDS.filter((threshold) => {
    const at = thresholdCount(limit, threshold);
    return before < at && after >= at;
  });
}

/** A threshold reached, as its Quota Threshold Reached event details it. */
export type ThresholdDetail = Parameters<typeof outgoing<typeof QuotaThresholdReached.schema>>[1];

/**
 * The announcement of a threshold reached: the `Quota Threshold Reached` event for routing and an
 * `Audit Record` for the tenant's log, to publish in one PutEvents call.
 */
export function thresholdAnnouncement(detail: ThresholdDetail, actor: QuotaActor): OutgoingEvent[] {
  return [
    outgoing(QuotaThresholdReached, detail),
    outgoing(AuditRecord, {
      tenantId: detail.tenantId,
      userId: actor.userId,
      action: THRESHOLD_AUDIT_ACTION,
      resource: `/tenants/${detail.tenantId}/quotas`,
      outcome: 'success',
      statusCode: 200,
      requestId: actor.requestId,
      at: detail.at,
      details: {
        quota: detail.quota,
        threshold: detail.threshold,
        limit: detail.limit,
        used: detail.used,
        period: detail.period,
      },
    }),
  ];
}

/** A counted resource's period is its limit's value: raising or lowering it starts a new one. */
export const countedPeriod = (limit: number) => `limit=${limit}`;

/**
 * After a creation: each threshold it crossed is announced once per tenant, quota, threshold and
 * period. The claim (a row of `quota_thresholds`) decides who announces; a claim whose event the
 * bus refused is released, so that the next crossing announces it. The announcement is a
 * `Quota Threshold Reached` event for routing and an `Audit Record` for the tenant's log, in one
 * PutEvents call. Never throws: the creation has happened, and its answer must not say otherwise.
 */
export async function announceThresholds(
  deps: ThresholdDeps,
  use: QuotaUse | null,
  actor: QuotaActor,
  now: Date = new Date(),
  /**
   * The use before this change: one less for a creation. A measure (the storage snapshot) passes
   * -1, so that every threshold its value has reached is claimed (and announced the first time).
   */
  before = (use?.used ?? 0) - 1,
): Promise<QuotaThreshold[]> {
  if (!use) return [];
  const announced: QuotaThreshold[] = [];
  for (const threshold of thresholdsCrossed(use.limit, before, use.used)) {
    const key = { tenantId: use.tenantId, quota: use.quota, threshold, period: countedPeriod(use.limit) };
    try {
      const claimed = await deps.control.execute(
        `insert into quota_thresholds (tenant_id, quota, threshold, period)
         values (:tenantId, :quota, :threshold, :period) on conflict do nothing`,
        key,
      );
      if (claimed !== 1) continue;
      const at = now.toISOString();
      const detail = { ...key, plan: use.plan, limit: use.limit, used: use.used, at };
      const { failed } = await deps.events.publish(thresholdAnnouncement(detail, actor));
      if (failed.some((entry) => entry.event.detailType === QuotaThresholdReached.detailType)) {
        await deps.control.execute(
          `delete from quota_thresholds
            where tenant_id = :tenantId and quota = :quota and threshold = :threshold and period = :period`,
          key,
        );
        logger.warn('quota threshold not announced; released for the next crossing', { ...key });
        continue;
      }
      if (failed.length > 0) logger.warn('quota threshold audit record not published', { ...key });
      announced.push(threshold);
    } catch (error) {
      logger.error('quota threshold check failed', { ...key, error });
    }
  }
  return announced;
}
