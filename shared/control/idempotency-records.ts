import { randomUUID } from 'node:crypto';
import { DATA_API_STATEMENT_TIMEOUT_SECONDS, DEFAULT_FUNCTION_TIMEOUT_SECONDS } from '#shared/config';
import type {
  ClaimOutcome,
  IdempotencySettings,
  IdempotencyStore,
  IdempotentAttempt,
  IdempotentRequest,
  StoredResponse,
} from '#shared/ports/idempotency';
import { type SqlRunner, sqlJson } from '#shared/ports/sql';

/** A key names its request for 24 hours after its first use. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

/**
 * How long an attempt holds its key. Longer than the last moment its writes can commit: its
 * function runs at most DEFAULT_FUNCTION_TIMEOUT_SECONDS (29 s), and a Data API statement it sent
 * just before it timed out may run DATA_API_STATEMENT_TIMEOUT_SECONDS (45 s) more; 16 s spare for
 * clocks (each function's own, NTP-synchronised in Lambda). After the lease, a retry runs the
 * request again, knowing the earlier attempt can no longer write anything.
 */
export const IDEMPOTENCY_LEASE_SECONDS =
  DEFAULT_FUNCTION_TIMEOUT_SECONDS + DATA_API_STATEMENT_TIMEOUT_SECONDS + 16;

/** How long a request waits for a concurrent one with its key (well inside the 29 s timeout). */
export const IDEMPOTENCY_WAIT_MS = 5_000;

export const DEFAULT_IDEMPOTENCY_SETTINGS: IdempotencySettings = {
  ttlSeconds: IDEMPOTENCY_TTL_SECONDS,
  leaseSeconds: IDEMPOTENCY_LEASE_SECONDS,
  waitMs: IDEMPOTENCY_WAIT_MS,
  now: () => new Date(),
};

/**
 * Characters of a body per stored part. The Data API refuses a result row over 64 KB; a character
 * of a JSON body takes at most 3 bytes in the Data API's answer (a 3-byte UTF-8 character, or an
 * escaped quote or backslash), so a part stays under 48 000 bytes.
 */
export const RESPONSE_PART_CHARS = 16_000;
/** Parts read per statement: 16 × 48 000 bytes stays under the Data API's 1 MiB response limit. */
const PARTS_PER_READ = 16;
/** A body longer than this is not kept (no route answers one): the attempt is released instead. */
export const MAX_STORED_BODY_CHARS = 1024 * 1024;
/** Expired records each new key deletes, oldest first, so the table holds about a day of keys. */
const PURGE_PER_CLAIM = 50;

/** A body in parts of at most RESPONSE_PART_CHARS characters, never splitting a surrogate pair. */
export function responseParts(body: string): string[] {
  const parts: string[] = [];
  let at = 0;
  do {
    let end = Math.min(at + RESPONSE_PART_CHARS, body.length);
    const last = body.charCodeAt(end - 1);
    if (end < body.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(body.slice(at, end));
    at = end;
  } while (at < body.length);
  return parts;
}

interface RecordRow {
  operationId: string;
  fingerprint: string;
  token: string;
  attempt: number;
  state: 'in_progress' | 'completed';
  statusCode: number | null;
  headers: Record<string, string> | null;
  startedAt: string;
  leaseUntil: string | null;
  expiresAt: string;
  [column: string]: unknown;
}

const RECORD_COLUMNS = `operation_id as "operationId", fingerprint, token, attempt, state,
  status_code as "statusCode", response_headers as "headers", started_at as "startedAt",
  lease_until as "leaseUntil", expires_at as "expiresAt"`;

/**
 * The idempotency records in the control database, as the application role (docs/retry-safe-writes.md).
 * Every state change is one statement, conditional on the state it leaves, so concurrent requests
 * with one key cannot both hold it. Times come from `settings.now` (injectable for tests).
 */
export class IdempotencyRecords implements IdempotencyStore {
  readonly settings: IdempotencySettings;

  constructor(
    private readonly sql: SqlRunner,
    settings: Partial<IdempotencySettings> = {},
  ) {
    this.settings = { ...DEFAULT_IDEMPOTENCY_SETTINGS, ...settings };
  }

  async claim(request: IdempotentRequest): Promise<ClaimOutcome> {
    // Each round either decides or sees the record change under it (deleted, taken over); a few
    // rounds are plenty, and a record that keeps changing is a fault, not a wait.
    for (let round = 0; round < 4; round++) {
      const now = this.settings.now();
      const fresh = await this.insert(request, now);
      if (fresh) return { kind: 'claimed', attempt: { ...fresh, rerun: false } };
      const existing = await this.find(request);
      if (!existing) continue;
      if (Date.parse(existing.expiresAt) <= now.getTime()) {
        await this.sql.execute('delete from idempotency_records where token = :token::uuid', {
          token: existing.token,
        });
        continue;
      }
      if (existing.fingerprint !== request.fingerprint || existing.operationId !== request.operationId) {
        return { kind: 'mismatch' };
      }
      if (existing.state === 'completed') {
        return {
          kind: 'completed',
          response: {
            statusCode: existing.statusCode ?? 500,
            headers: existing.headers ?? {},
            body: await this.body(existing.token),
          },
        };
      }
      const leaseUntil = new Date(existing.leaseUntil ?? existing.expiresAt);
      if (leaseUntil.getTime() > now.getTime()) {
        return { kind: 'in_progress', startedAt: new Date(existing.startedAt), leaseUntil };
      }
      const taken = await this.takeOver(existing, now);
      if (taken) return { kind: 'claimed', attempt: { key: request.key, ...taken, rerun: true } };
    }
    throw new Error('The idempotency record kept changing while it was being claimed');
  }

  async complete(
    request: IdempotentRequest,
    attempt: IdempotentAttempt,
    response: StoredResponse,
  ): Promise<boolean> {
    if (response.body.length > MAX_STORED_BODY_CHARS) return false;
    const rows = await this.sql.query(
      `with done as (
         update idempotency_records
            set state = 'completed', status_code = :statusCode, response_headers = :headers::jsonb,
                lease_until = null, completed_at = :now::timestamptz
          where user_id = :userId and idempotency_key = :key and token = :token::uuid
            and attempt = :attempt and state = 'in_progress'
         returning token)
       insert into idempotency_response_parts (token, part, chunk)
       select done.token, (p.n - 1)::int, p.chunk
         from done, jsonb_array_elements_text(:parts::jsonb) with ordinality as p(chunk, n)
       returning part`,
      {
        userId: request.userId,
        key: request.key,
        token: attempt.token,
        attempt: attempt.attempt,
        statusCode: response.statusCode,
        headers: sqlJson(response.headers),
        parts: sqlJson(responseParts(response.body)),
        now: this.settings.now().toISOString(),
      },
    );
    return rows.length > 0;
  }

  async release(request: IdempotentRequest, attempt: IdempotentAttempt): Promise<void> {
    await this.sql.execute(
      `update idempotency_records set lease_until = :now::timestamptz
        where user_id = :userId and idempotency_key = :key and token = :token::uuid
          and attempt = :attempt and state = 'in_progress'`,
      {
        userId: request.userId,
        key: request.key,
        token: attempt.token,
        attempt: attempt.attempt,
        now: this.settings.now().toISOString(),
      },
    );
  }

  async purgeExpired(limit = PURGE_PER_CLAIM): Promise<number> {
    return this.sql.execute(
      `delete from idempotency_records where token in (
         select token from idempotency_records where expires_at <= :now::timestamptz
          order by expires_at limit :limit for update skip locked)`,
      { now: this.settings.now().toISOString(), limit },
    );
  }

  /**
   * A new record for the key, unless it has one; the same statement deletes a few expired records
   * of anyone (never this key's: its own expiry is decided by the caller, in the open).
   */
  private async insert(
    request: IdempotentRequest,
    now: Date,
  ): Promise<Omit<IdempotentAttempt, 'rerun'> | null> {
    const token = randomUUID();
    const [row] = await this.sql.query<{ token: string }>(
      `with purged as (
         delete from idempotency_records where token in (
           select token from idempotency_records
            where expires_at <= :now::timestamptz and not (user_id = :userId and idempotency_key = :key)
            order by expires_at limit :purge for update skip locked))
       insert into idempotency_records (user_id, idempotency_key, operation_id, fingerprint, token, attempt,
                                        state, started_at, lease_until, created_at, expires_at)
       values (:userId, :key, :operationId, :fingerprint, :token::uuid, 1, 'in_progress', :now::timestamptz,
               :now::timestamptz + make_interval(secs => :lease), :now::timestamptz,
               :now::timestamptz + make_interval(secs => :ttl))
       on conflict (user_id, idempotency_key) do nothing
       returning token`,
      {
        ...request,
        token,
        now: now.toISOString(),
        lease: this.settings.leaseSeconds,
        ttl: this.settings.ttlSeconds,
        purge: PURGE_PER_CLAIM,
      },
    );
    return row ? { key: request.key, token, attempt: 1 } : null;
  }

  private async find(request: IdempotentRequest): Promise<RecordRow | null> {
    const [row] = await this.sql.query<RecordRow>(
      `select ${RECORD_COLUMNS} from idempotency_records where user_id = :userId and idempotency_key = :key`,
      { userId: request.userId, key: request.key },
    );
    return row ?? null;
  }

  /** The next attempt of a request whose lease ended, if no one else took it first. */
  private async takeOver(existing: RecordRow, now: Date): Promise<{ token: string; attempt: number } | null> {
    const [row] = await this.sql.query<{ attempt: number }>(
      `update idempotency_records
          set attempt = attempt + 1, started_at = :now::timestamptz,
              lease_until = :now::timestamptz + make_interval(secs => :lease)
        where token = :token::uuid and attempt = :attempt and state = 'in_progress'
          and lease_until <= :now::timestamptz
       returning attempt`,
      {
        token: existing.token,
        attempt: existing.attempt,
        now: now.toISOString(),
        lease: this.settings.leaseSeconds,
      },
    );
    return row ? { token: existing.token, attempt: row.attempt } : null;
  }

  private async body(token: string): Promise<string> {
    let body = '';
    for (let from = 0; ; from += PARTS_PER_READ) {
      const rows = await this.sql.query<{ chunk: string }>(
        `select chunk from idempotency_response_parts
          where token = :token::uuid and part >= :from order by part limit :limit`,
        { token, from, limit: PARTS_PER_READ },
      );
      body += rows.map((row) => row.chunk).join('');
      if (rows.length < PARTS_PER_READ) return body;
    }
  }
}
