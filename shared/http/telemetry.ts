import type { MiddlewareObj } from '@middy/core';
import { logger } from '#shared/core/logger';
import type { HttpEvent, HttpRequest, HttpResponse } from '#shared/http/middleware';
import { recordsOf } from '#shared/http/request-records';
import type { TelemetrySink } from '#shared/ports/telemetry';
import { emit } from '#shared/records/emission';
import type { RouteSpec } from '#shared/routes/types';

export interface TelemetryOptions {
  /** The sink of the function, from the composition root; `null` where there is no bus (public routes). */
  readonly sink: () => TelemetrySink | null;
}

/**
 * Audit, usage and metric emission. Registered just inside the request context, so its `after`
 * and `onError` run once the error mapping has set the final response: denied requests are
 * audited too. The response is already computed; the one PutEvents call is awaited because a
 * Lambda function does no work after it returns.
 */
export function telemetry(
  route: RouteSpec,
  options: TelemetryOptions,
): MiddlewareObj<HttpEvent, HttpResponse> {
  const finish = async (request: HttpRequest) => {
    try {
      const sink = options.sink();
      if (!sink) return;
      const status = request.response?.statusCode ?? 500;
      await emit(sink, recordsOf(route, request.event, status));
    } catch (error) {
      logger.error('telemetry failed', { error });
    }
  };
  return { name: 'telemetry', after: finish, onError: finish };
}
