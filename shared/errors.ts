/**
 * Typed domain errors. The HTTP error mapper turns any `DomainError` into its status and code;
 * every other error becomes a generic 500 whose body says nothing about the cause.
 */
export abstract class DomainError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  /** Extra, client-safe fields added to the error body (never internals). */
  readonly details: Record<string, unknown> | undefined;
  /** Response headers the answer carries (`Retry-After`), names in lower case. */
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(message: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
    this.headers = headers;
  }
}

export class ValidationFailed extends DomainError {
  readonly statusCode = 400;
  readonly code = 'validation_failed';
}

export class BadRequest extends DomainError {
  readonly statusCode = 400;
  readonly code = 'bad_request';
}

/**
 * A write that would make a tenant's row larger than a row may be (see shared/data/row-size.ts):
 * its own code, so that clients can tell "this row is too big" from a malformed value.
 */
export class RowTooLarge extends DomainError {
  readonly statusCode = 400;
  readonly code = 'row_too_large';
}

export class Unauthenticated extends DomainError {
  readonly statusCode = 401;
  readonly code = 'unauthenticated';
}

export class Forbidden extends DomainError {
  readonly statusCode = 403;
  readonly code = 'forbidden';
}

/**
 * A member of a suspended tenant: its own code, so that clients can tell "your tenant is
 * suspended, talk to us" from "your role lacks a permission".
 */
export class TenantSuspended extends DomainError {
  readonly statusCode = 403;
  readonly code = 'tenant_suspended';
}

/**
 * Creating one more of a counted resource (databases, tables of a database, members with pending
 * invitations, custom roles) would pass the tenant's limit (issue 15): nothing was created. The
 * body names the quota, its limit and how many the tenant uses.
 */
export class QuotaExceeded extends DomainError {
  readonly statusCode = 403;
  readonly code = 'quota_exceeded';

  constructor(
    readonly quota: string,
    readonly limit: number,
    readonly used: number,
  ) {
    super(`The ${quota} quota of this tenant's plan is reached (${used} of ${limit})`, {
      quota,
      limit,
      used,
    });
  }
}

export class NotFound extends DomainError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class Conflict extends DomainError {
  readonly statusCode = 409;
  readonly code = 'conflict';
}

/** A closed cluster takes nothing new: no database, no pin (docs/clusters.md). */
export class ClusterClosed extends DomainError {
  readonly statusCode = 409;
  readonly code = 'cluster_closed';
}

/** The caller's email is not verified: nothing addressed to that email is theirs yet. */
export class EmailNotVerified extends DomainError {
  readonly statusCode = 403;
  readonly code = 'email_not_verified';
}

/** The invitation was the caller's, but it expired: the tenant has to invite them again. */
export class InvitationExpired extends DomainError {
  readonly statusCode = 410;
  readonly code = 'invitation_expired';
}

/** The body field and the header of an answer that says when to send the request again. */
const retryAfter = (seconds: number) =>
  [{ retryAfterSeconds: seconds }, { 'retry-after': String(seconds) }] as const;

/**
 * The request's `Idempotency-Key` is held by an earlier request of the same caller that has not
 * finished (shared/http/idempotency.ts): nothing was done; send the same request again after
 * `Retry-After` seconds, and it answers that request's result.
 */
export class IdempotencyInProgress extends DomainError {
  readonly statusCode = 409;
  readonly code = 'idempotency_in_progress';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, ...retryAfter(retryAfterSeconds));
  }
}

/**
 * The request's `Idempotency-Key` was used by the same caller for another request (another route,
 * path or body): nothing was done. A key names one request; a new request needs a new key.
 */
export class IdempotencyKeyMismatch extends DomainError {
  readonly statusCode = 422;
  readonly code = 'idempotency_key_mismatch';
}

export class PayloadTooLarge extends DomainError {
  readonly statusCode = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaType extends DomainError {
  readonly statusCode = 415;
  readonly code = 'unsupported_media_type';
}

/** A dependency (the event bus) refused for now; the request may be retried as it is. */
export class ServiceUnavailable extends DomainError {
  readonly statusCode = 503;
  readonly code = 'service_unavailable';
}

/**
 * The database is being moved (docs/isolation-modes.md, "Moves") and its row writes are frozen
 * for a moment: 503 with `Retry-After`; nothing was written, reads go on.
 */
export class DatabaseMoving extends DomainError {
  readonly statusCode = 503;
  readonly code = 'database_moving';

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, ...retryAfter(retryAfterSeconds));
  }
}

/** Configuration is read at cold start; a bad value stops the function before it serves anything. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * A retried batch whose earlier attempt may have committed (it died holding its Idempotency-Key,
 * or answered 5xx): its rows get fresh ids, so re-running it could insert them twice. Refused;
 * the client checks the table and sends the rows it is missing under a new key
 * (docs/retry-safe-writes.md).
 */
export class BatchRerunRefused extends DomainError {
  readonly statusCode = 409;
  readonly code = 'idempotency_rerun_refused';
}

/**
 * A tenant's requests beyond its plan's `requestsPerSecond` (with `burst`): 429 `rate_limited`
 * with `Retry-After` and the RateLimit headers (shared/http/rate-limit.ts). Nothing was done.
 */
export class RateLimited extends DomainError {
  readonly statusCode = 429;
  readonly code = 'rate_limited';
}

/**
 * A tenant past its plan's `apiCallsPerMonth`: 429 `quota_exceeded` (`quota: "apiCallsPerMonth"`)
 * with `Retry-After` until the UTC month turns. Nothing was done.
 */
export class MonthlyQuotaExceeded extends DomainError {
  readonly statusCode = 429;
  readonly code = 'quota_exceeded';
}
