import { createHash } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import { canonicalJson } from '#shared/core/canonical-json';
import { logger } from '#shared/core/logger';
import { IdempotencyInProgress, IdempotencyKeyMismatch, ValidationFailed } from '#shared/errors';
import { type HttpEvent, type HttpRequest, type HttpResponse, stateOf } from '#shared/http/middleware';
import type {
  ClaimOutcome,
  IdempotencyStore,
  IdempotentAttempt,
  IdempotentRequest,
  StoredResponse,
} from '#shared/ports/idempotency';
import type { RouteSpec } from '#shared/routes/types';

/**
 * Retry-safe writes (docs/retry-safe-writes.md): a route with `idempotent: true` takes an
 * `Idempotency-Key` header. The same caller, key and request answer the first result again (with
 * `idempotent-replayed: true`); a request while the key's first one runs waits for it, briefly,
 * or answers 409 `idempotency_in_progress` with `Retry-After`; the key with another request
 * answers 422 `idempotency_key_mismatch`. Two middlewares, because the key is claimed once the
 * caller and the input are known (inside authorisation and validation) but the answer is kept once
 * the error mapping has made it (outside it).
 */

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** A key: 1 to 100 of `A-Z a-z 0-9 _ -` (a UUID fits). */
export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_-]{1,100}$/;
/** On an answer given again from the record, not by running the request. */
export const REPLAYED_HEADER = 'idempotent-replayed';

/** 4xx answers that say "not now" rather than "no": a retry of the same request may succeed. */
const TRANSIENT_CLIENT_ERRORS = new Set([408, 425, 429]);

/**
 * Whether an answer is kept for the key: 2xx, and the 4xx a route gave after claiming it (the use
 * case's refusal: final for this request in this state). Never a 5xx, nor a transient 4xx: the
 * client should be able to retry those, and the retry runs the request again.
 */
export function keepsAnswer(status: number): boolean {
  if (status >= 200 && status < 300) return true;
  return status >= 400 && status < 500 && !TRANSIENT_CLIENT_ERRORS.has(status);
}

function headerOf(event: HttpEvent, name: string): string | undefined {
  return Object.entries(event.headers ?? {}).find(([header]) => header.toLowerCase() === name)?.[1];
}

function rawBodyOf(event: HttpEvent): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return null;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    // The route takes no body (validation would have refused a malformed one): its text, then.
    return text;
  }
}

/**
 * What makes two requests the same: method, path template and parameters, query and body, the
 * body as canonical JSON (key order and spacing do not matter).
 */
export function requestFingerprint(route: RouteSpec, event: HttpEvent): string {
  const request = [
    route.method,
    route.path,
    event.pathParameters ?? {},
    event.queryStringParameters ?? {},
    rawBodyOf(event),
  ];
  return createHash('sha256')
    .update(JSON.stringify(canonicalJson(request)))
    .digest('hex');
}

function invalidKey(): ValidationFailed {
  return new ValidationFailed('Invalid Idempotency-Key header', {
    details: [
      {
        location: 'headers',
        path: IDEMPOTENCY_KEY_HEADER,
        code: 'invalid_format',
        message: '1 to 100 of A-Z a-z 0-9 _ -',
      },
    ],
  });
}

type IdempotencyState =
  | { readonly kind: 'claimed'; readonly request: IdempotentRequest; readonly attempt: IdempotentAttempt }
  | { readonly kind: 'replay'; readonly response: StoredResponse }
  | { readonly kind: 'settled' };

/** Keyed by the event object, like the request state (shared/http/middleware.ts). */
const states = new WeakMap<HttpEvent, IdempotencyState>();

/** The attempt this request runs under its key; null without a key (or when it is a replay). */
export function idempotentAttemptOf(event: HttpEvent): IdempotentAttempt | null {
  const state = states.get(event);
  return state?.kind === 'claimed' ? state.attempt : null;
}

/** Whether this request's answer is its key's first result, given again. */
export const isReplay = (event: HttpEvent): boolean => states.get(event)?.kind === 'replay';

/** The key's first result, as this request's answer (its own request id), or null to run the request. */
export function replayOf(event: HttpEvent, requestId: string): HttpResponse | null {
  const state = states.get(event);
  if (state?.kind !== 'replay') return null;
  return {
    statusCode: state.response.statusCode,
    headers: { ...state.response.headers, 'x-request-id': requestId, [REPLAYED_HEADER]: 'true' },
    body: state.response.body,
  };
}

/** Time to wait for a concurrent request: the configured bound, less when the function has less left. */
function waitBudgetMs(waitMs: number, context: Context | undefined): number {
  const remaining = context?.getRemainingTimeInMillis?.();
  return remaining === undefined ? waitMs : Math.max(0, Math.min(waitMs, remaining - 15_000));
}

/**
 * `Retry-After` of a 409: a second while the key's attempt may still be running; once it has
 * outlived the function timeout it cannot be, and the key is free when its lease ends.
 */
function retryAfterSeconds(outcome: Extract<ClaimOutcome, { kind: 'in_progress' }>, now: Date): number {
  const age = now.getTime() - outcome.startedAt.getTime();
  if (age <= DEFAULT_FUNCTION_TIMEOUT_SECONDS * 1000) return 1;
  return Math.max(1, Math.ceil((outcome.leaseUntil.getTime() - now.getTime()) / 1000));
}

function storedOf(response: HttpResponse): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower !== 'x-request-id' && lower !== REPLAYED_HEADER) headers[lower] = String(value);
  }
  return { statusCode: response.statusCode ?? 200, headers, body: response.body ?? '' };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The two middlewares of an idempotent route (see shared/http/handler.ts for their places). */
export function idempotency(
  route: RouteSpec,
  store: () => IdempotencyStore,
): {
  readonly claim: MiddlewareObj<HttpEvent, HttpResponse>;
  readonly record: MiddlewareObj<HttpEvent, HttpResponse>;
} {
  const claim = async (request: HttpRequest) => {
    const key = headerOf(request.event, IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return;
    if (!IDEMPOTENCY_KEY_PATTERN.test(key)) throw invalidKey();
    const caller = stateOf(request.event).caller;
    // An idempotent route is never public (test/unit/idempotency.test.ts): keys belong to callers.
    if (!caller) throw new Error(`${route.operationId} is idempotent but has no caller`);
    const records = store();
    const wanted: IdempotentRequest = {
      userId: caller.userId,
      key,
      operationId: route.operationId,
      fingerprint: requestFingerprint(route, request.event),
    };
    const deadline = Date.now() + waitBudgetMs(records.settings.waitMs, request.context);
    for (let wait = 50; ; wait = Math.min(wait * 2, 500)) {
      const outcome = await records.claim(wanted);
      switch (outcome.kind) {
        case 'claimed':
          states.set(request.event, { kind: 'claimed', request: wanted, attempt: outcome.attempt });
          logger.appendKeys({ idempotencyAttempt: outcome.attempt.attempt });
          return;
        case 'completed':
          states.set(request.event, { kind: 'replay', response: outcome.response });
          logger.appendKeys({ idempotentReplay: true });
          return;
        case 'mismatch':
          throw new IdempotencyKeyMismatch(
            'This Idempotency-Key was used for another request (route, path or body); use a new key for a new request',
          );
        case 'in_progress':
          if (Date.now() + wait > deadline) {
            throw new IdempotencyInProgress(
              'A request with this Idempotency-Key is in progress; send it again after Retry-After seconds',
              retryAfterSeconds(outcome, records.settings.now()),
            );
          }
          await pause(wait);
      }
    }
  };
  /** Keeps the answer for the key, or releases the key so that a retry runs the request again. */
  const settle = async (request: HttpRequest) => {
    const state = states.get(request.event);
    if (state?.kind !== 'claimed') return;
    states.set(request.event, { kind: 'settled' });
    const response = request.response;
    const records = store();
    try {
      if (response && keepsAnswer(response.statusCode ?? 200)) {
        if (await records.complete(state.request, state.attempt, storedOf(response))) return;
        logger.warn('idempotency result not kept', { status: response.statusCode });
      }
      await records.release(state.request, state.attempt);
    } catch (error) {
      // The answer stands; a retry meets the key in progress until its lease ends, then re-runs.
      logger.error('idempotency record not updated', { error });
    }
  };
  return {
    claim: { name: 'idempotencyClaim', before: claim },
    record: { name: 'idempotencyRecord', after: settle, onError: settle },
  };
}
