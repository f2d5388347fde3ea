import { randomUUID } from 'node:crypto';
import type { PlatformInfo } from '#infra/local/platform-info';
import { CONTROL_DATABASE } from '#infra/local/platform-info';
import { IdempotencyRecords } from '#shared/control/idempotency-records';
import { requestFingerprint } from '#shared/http/idempotency';
import type { IdempotencySettings, IdempotentRequest } from '#shared/ports/idempotency';
import type { RouteSpec } from '#shared/routes/types';
import { httpEvent } from './http-events.ts';
import { type ClosableRunner, dataApiRunner } from './tenancy.ts';

/**
 * The platform's control database as the functions reach it (the application role `tenantry_app`,
 * through the Data API stand-in), for tests that look at or plant idempotency records.
 */
export function controlAsApp(info: PlatformInfo): ClosableRunner {
  return dataApiRunner(info, CONTROL_DATABASE, info.dataApi.controlSecretArn);
}

/** A clock a test moves by hand. */
export function manualClock(start = Date.now()) {
  let at = start;
  return {
    now: () => new Date(at),
    set: (ms: number) => {
      at = ms;
    },
    advance: (ms: number) => {
      at += ms;
    },
  };
}

/** The records of the platform's control database with the test's own clock or settings. */
export function recordsOn(runner: ClosableRunner, settings: Partial<IdempotencySettings> = {}) {
  return new IdempotencyRecords(runner.runner, settings);
}

/**
 * The idempotent request the middleware sees for `route` called as `userId` with `key`, the path
 * parameters and the JSON body the local client sends: planting a record for it makes the next
 * HTTP request with that key meet the record.
 */
export function requestAsSent(
  route: RouteSpec,
  userId: string,
  key: string,
  pathParameters: Record<string, string>,
  body?: unknown,
): IdempotentRequest {
  const event = httpEvent({ method: route.method, path: route.path, pathParameters, body });
  return { userId, key, operationId: route.operationId, fingerprint: requestFingerprint(route, event) };
}

export const newKey = (label: string) => `${label}-${randomUUID()}`;
