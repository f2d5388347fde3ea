/**
 * Idempotency records: what a caller's `Idempotency-Key` stands for, and the first result of the
 * request it named (docs/retry-safe-writes.md). The HTTP middleware (shared/http/idempotency.ts)
 * decides what to do with a request; the store only makes each state change atomic.
 */

/** One request, as a key names it: the caller, the key, and a hash of what was asked. */
export interface IdempotentRequest {
  readonly userId: string;
  readonly key: string;
  readonly operationId: string;
  /** SHA-256 (hex) of the method, path, path parameters, query and body (canonical JSON). */
  readonly fingerprint: string;
}

/**
 * The attempt a request runs under its key. A handler that creates something can name it after
 * `token`, so that a re-run finds what an earlier attempt made instead of making it twice.
 */
export interface IdempotentAttempt {
  readonly key: string;
  /** A random UUID, the same on every attempt of the key's request, new once the key expired. */
  readonly token: string;
  /** 1 for the first attempt, 2 for the first re-run, … */
  readonly attempt: number;
  /**
   * An earlier attempt ran and did not record a result: it outlived its lease (its function timed
   * out or crashed) or it failed with an answer that is not kept (a 5xx). Its writes may or may
   * not have committed.
   */
  readonly rerun: boolean;
}

/** A response as it was answered, kept to be answered again. */
export interface StoredResponse {
  readonly statusCode: number;
  /** Names in lower case; the per-request `x-request-id` is not kept. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type ClaimOutcome =
  /** The key is this request's to run: a new key, an expired one, or a re-run after a lease ended. */
  | { readonly kind: 'claimed'; readonly attempt: IdempotentAttempt }
  /** The key's request has finished: its result. */
  | { readonly kind: 'completed'; readonly response: StoredResponse }
  /** The key's request is running (or ran and its lease has not ended yet). */
  | { readonly kind: 'in_progress'; readonly startedAt: Date; readonly leaseUntil: Date }
  /** The key names another request of this caller. */
  | { readonly kind: 'mismatch' };

export interface IdempotencySettings {
  /** How long a key names its request, from its first use (seconds). */
  readonly ttlSeconds: number;
  /** How long an attempt holds the key before a retry may run the request again (seconds). */
  readonly leaseSeconds: number;
  /** How long a request waits for a concurrent one with its key to finish before answering 409 (ms). */
  readonly waitMs: number;
  /** The clock the records are kept by. */
  readonly now: () => Date;
}

export interface IdempotencyStore {
  readonly settings: IdempotencySettings;
  /** Claims the key for `request`, or says why not; one step, no waiting. */
  claim(request: IdempotentRequest): Promise<ClaimOutcome>;
  /** Keeps the attempt's result; false when the attempt no longer holds the key. */
  complete(
    request: IdempotentRequest,
    attempt: IdempotentAttempt,
    response: StoredResponse,
  ): Promise<boolean>;
  /** Ends the attempt's lease without a result: the next retry runs the request again (a re-run). */
  release(request: IdempotentRequest, attempt: IdempotentAttempt): Promise<void>;
  /** Deletes up to `limit` expired records; how many went. */
  purgeExpired(limit?: number): Promise<number>;
}
