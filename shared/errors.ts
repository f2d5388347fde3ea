/**
 * Typed domain errors. The HTTP error mapper turns any `DomainError` into its status and code;
 * every other error becomes a generic 500 whose body says nothing about the cause.
 */
export abstract class DomainError extends Error {
  abstract readonly statusCode: number;
  abstract readonly code: string;
  /** Extra, client-safe fields added to the error body (never internals). */
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
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

export class NotFound extends DomainError {
  readonly statusCode = 404;
  readonly code = 'not_found';
}

export class Conflict extends DomainError {
  readonly statusCode = 409;
  readonly code = 'conflict';
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
