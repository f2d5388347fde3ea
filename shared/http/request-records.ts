import { TENANT_ID_PATTERN } from '#shared/control/ids';
import { type EventDetail, RequestRecorded } from '#shared/events/events';
import { isReplay } from '#shared/http/idempotency';
import { type HttpEvent, stateOf } from '#shared/http/middleware';
import { type OutgoingEvent, outgoing } from '#shared/ports/event-publisher';
import { actionOf, outcomeOf } from '#shared/records/audit-actions';
import { boundedDetails, redact, redactedKeys } from '#shared/records/redaction';
import type { RouteSpec } from '#shared/routes/types';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function rawBodyKeys(event: HttpEvent): string[] {
  if (!event.body) return [];
  try {
    const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
    const parsed = JSON.parse(raw) as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return redactedKeys(parsed);
  } catch {
    // Not JSON: nothing of it is recorded.
  }
  return [];
}

type RequestDetail = EventDetail<typeof RequestRecorded>;

/**
 * The records of one finished request, in one `Request Recorded` entry: an audit record when it
 * mutates, usage (`api_calls`) when a tenant was authorised and is not suspended (a tenant is
 * never billed for calls others make against its id), and a metric sample always.
 */
export function recordsOf(
  route: RouteSpec,
  event: HttpEvent,
  statusCode: number,
  now: Date = new Date(),
): OutgoingEvent[] {
  const state = stateOf(event);
  const at = now.toISOString();
  const pathTenant = event.pathParameters?.tenantId;
  const knownTenant = pathTenant && TENANT_ID_PATTERN.test(pathTenant) ? pathTenant : null;
  const authorisedTenant = state.grant?.tenantId ?? null;
  let audit: RequestDetail['audit'];
  let usage: RequestDetail['usage'];
  if (MUTATING.has(route.method)) {
    // The validated body only: strict schemas already dropped what no route accepts. A body that
    // failed validation is recorded by its (redacted) field names, never its values — also when
    // the use case refused it (a row checked against its table's columns passed the route's
    // schema, then failed the table's): every 400 is a refused body.
    const details: Record<string, unknown> = { method: route.method, operationId: route.operationId };
    if (state.body !== undefined && statusCode !== 400)
      details.body = route.auditDetails
        ? route.auditDetails({ params: state.params, query: state.query, body: state.body })
        : redact(state.body);
    else {
      const keys = rawBodyKeys(event);
      if (keys.length > 0) details.rejectedFields = keys;
    }
    // A retry answered from its Idempotency-Key's record changed nothing: audited as the request
    // it was, marked so a reader does not count the first one's change twice.
    if (isReplay(event)) details.replayed = true;
    audit = {
      tenantId: authorisedTenant ?? (statusCode < 400 ? state.recordTenantId : null) ?? knownTenant,
      userId: state.caller?.userId ?? 'anonymous',
      action: actionOf(route),
      resource: event.rawPath ?? route.path,
      outcome: outcomeOf(statusCode, authorisedTenant !== null),
      statusCode,
      requestId: state.requestId,
      at,
      details: boundedDetails(details),
    };
  }
  // Nothing of a suspended tenant is billed: its refused calls have no grant, and the calls it
  // may still make (reading its own status, a platform admin's support work) are not charged.
  // Nor is a request refused for the tenant's rate or month limit (issue 15): nothing was served.
  if (authorisedTenant && state.grant?.suspended !== true && !state.throttled) {
    usage = {
      tenantId: authorisedTenant,
      resourceType: 'api_calls',
      quantity: 1,
      unit: 'calls',
      at,
    };
  }
  const metric = {
    tenantId: authorisedTenant,
    operationId: route.operationId,
    statusCode,
    latencyMs: Math.max(0, now.getTime() - state.startedAt),
    at,
    ...(state.caller?.userId ? { userId: state.caller.userId } : {}),
  };
  return [
    outgoing(RequestRecorded, {
      requestId: state.requestId,
      ...(audit ? { audit } : {}),
      ...(usage ? { usage } : {}),
      metric,
    }),
  ];
}
