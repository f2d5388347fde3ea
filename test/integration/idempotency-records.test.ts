import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { IDEMPOTENCY_LEASE_SECONDS, RESPONSE_PART_CHARS } from '#shared/control/idempotency-records';
import type { ClaimOutcome, IdempotentAttempt, IdempotentRequest } from '#shared/ports/idempotency';
import { controlAsApp, manualClock, recordsOn } from '../support/idempotency.ts';
import { withPg } from '../support/tenancy.ts';

/**
 * The idempotency records on the platform's control database, as the functions reach it (the
 * application role through the Data API stand-in, with its limits), with a clock the test moves.
 * Other test files share the database: a clock is moved at most a few minutes ahead, with TTLs as
 * short, so that no claim here purges another test's live records (each claim purges expired ones).
 */

const info = inject('platform');
const control = controlAsApp(info);
afterAll(() => control.close());

const request = (overrides: Partial<IdempotentRequest> = {}): IdempotentRequest => ({
  userId: randomUUID(),
  key: `key-${randomUUID()}`,
  operationId: 'createRole',
  fingerprint: 'a'.repeat(64),
  ...overrides,
});

function claimed(outcome: ClaimOutcome): IdempotentAttempt {
  if (outcome.kind !== 'claimed') throw new Error(`expected a claim, got ${JSON.stringify(outcome)}`);
  return outcome.attempt;
}

const rowsOf = (token: string) =>
  withPg(info, 'control', async (client) => ({
    records: (await client.query('select 1 from idempotency_records where token = $1', [token])).rowCount,
    parts: (await client.query('select 1 from idempotency_response_parts where token = $1', [token]))
      .rowCount,
  }));

describe('idempotency records in the control database', () => {
  it('claims a new key once; the same request meets it in progress, another request a mismatch', async () => {
    // Arrange
    const records = recordsOn(control);
    const mine = request();

    // Act
    const first = claimed(await records.claim(mine));
    const again = await records.claim(mine);
    const other = await records.claim({ ...mine, fingerprint: 'b'.repeat(64) });
    const otherRoute = await records.claim({ ...mine, operationId: 'createTable' });
    const otherUser = await records.claim({ ...mine, userId: randomUUID() });

    // Assert
    expect(first).toMatchObject({ key: mine.key, attempt: 1, rerun: false });
    expect(again).toMatchObject({ kind: 'in_progress' });
    expect(other).toEqual({ kind: 'mismatch' });
    expect(otherRoute).toEqual({ kind: 'mismatch' });
    expect(claimed(otherUser).token).not.toBe(first.token);
  });

  it('keeps the answer and gives it again; an attempt that lost the key cannot overwrite it', async () => {
    const clock = manualClock();
    const records = recordsOn(control, { now: clock.now });
    const mine = request();
    const first = claimed(await records.claim(mine));
    clock.advance((IDEMPOTENCY_LEASE_SECONDS + 1) * 1000);
    const second = claimed(await records.claim(mine));

    const stale = await records.complete(mine, first, { statusCode: 500, headers: {}, body: 'stale' });
    const kept = await records.complete(mine, second, {
      statusCode: 201,
      headers: { location: '/x', 'content-type': 'application/json; charset=utf-8' },
      body: '{"id":"x"}',
    });
    const replay = await records.claim(mine);

    expect(second).toMatchObject({ token: first.token, attempt: 2, rerun: true });
    expect(stale).toBe(false);
    expect(kept).toBe(true);
    expect(replay).toEqual({
      kind: 'completed',
      response: {
        statusCode: 201,
        headers: { location: '/x', 'content-type': 'application/json; charset=utf-8' },
        body: '{"id":"x"}',
      },
    });
  });

  it('holds the key for the lease, then lets one retry take it over as a re-run with the same token', async () => {
    const clock = manualClock();
    const records = recordsOn(control, { now: clock.now });
    const mine = request();
    const first = claimed(await records.claim(mine));

    clock.advance((IDEMPOTENCY_LEASE_SECONDS - 1) * 1000);
    const during = await records.claim(mine);
    clock.advance(2_000);
    const takeovers = await Promise.all(Array.from({ length: 5 }, () => records.claim(mine)));

    expect(during).toMatchObject({ kind: 'in_progress' });
    if (during.kind === 'in_progress') {
      expect(during.leaseUntil.getTime() - during.startedAt.getTime()).toBe(IDEMPOTENCY_LEASE_SECONDS * 1000);
    }
    const winners = takeovers.filter((outcome) => outcome.kind === 'claimed');
    expect(winners).toHaveLength(1);
    expect(claimed(winners[0] as ClaimOutcome)).toMatchObject({
      token: first.token,
      attempt: 2,
      rerun: true,
    });
    expect(takeovers.filter((outcome) => outcome.kind === 'in_progress')).toHaveLength(4);
  });

  it('a released attempt (an answer not kept) is run again by the next claim at once', async () => {
    const records = recordsOn(control);
    const mine = request();
    const first = claimed(await records.claim(mine));

    await records.release(mine, first);
    const next = claimed(await records.claim(mine));

    expect(next).toMatchObject({ token: first.token, attempt: 2, rerun: true });
  });

  it('many claims of a new key at once: exactly one holds it', async () => {
    const records = recordsOn(control);
    const mine = request();

    const outcomes = await Promise.all(Array.from({ length: 8 }, () => records.claim(mine)));

    expect(outcomes.filter((outcome) => outcome.kind === 'claimed')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.kind === 'in_progress')).toHaveLength(7);
  });

  it('after the TTL the key is free: a new claim, even for another request, with a new token; the old answer is gone', async () => {
    // A short TTL: a clock moved 24 h ahead would let this claim purge other tests' live records.
    const clock = manualClock();
    const ttlSeconds = 120;
    const records = recordsOn(control, { now: clock.now, ttlSeconds });
    const mine = request();
    const first = claimed(await records.claim(mine));
    await records.complete(mine, first, { statusCode: 201, headers: {}, body: '{}' });

    clock.advance(ttlSeconds * 1000 - 1_000);
    const before = await records.claim({ ...mine, fingerprint: 'c'.repeat(64) });
    clock.advance(2_000);
    const after = claimed(await records.claim({ ...mine, fingerprint: 'c'.repeat(64) }));

    expect(before).toEqual({ kind: 'mismatch' });
    expect(after).toMatchObject({ attempt: 1, rerun: false });
    expect(after.token).not.toBe(first.token);
    expect(await rowsOf(first.token)).toEqual({ records: 0, parts: 0 });
  });

  it('purges expired records with their answers, and keeps live ones; a short TTL works the same', async () => {
    const clock = manualClock();
    const shortLived = recordsOn(control, { now: clock.now, ttlSeconds: 60 });
    const expired = request();
    const live = request();
    const old = claimed(await shortLived.claim(expired));
    await shortLived.complete(expired, old, { statusCode: 201, headers: {}, body: 'x'.repeat(40_000) });
    clock.advance(61_000);
    const fresh = claimed(await shortLived.claim(live));
    // A new key's claim purges up to 50 expired records, oldest first (far fewer exist here).
    const purgedByClaim = await rowsOf(old.token);
    const keptByClaim = await rowsOf(fresh.token);
    await shortLived.purgeExpired(1000);
    const keptByPurge = await rowsOf(fresh.token);
    clock.advance(61_000);
    const purged = await shortLived.purgeExpired(1000);

    expect(purgedByClaim).toEqual({ records: 0, parts: 0 });
    expect(keptByClaim).toEqual({ records: 1, parts: 0 });
    expect(keptByPurge).toEqual({ records: 1, parts: 0 });
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await rowsOf(fresh.token)).toEqual({ records: 0, parts: 0 });
  });

  it('keeps an answer larger than a Data API row, in parts, and reads it back whole', async () => {
    const records = recordsOn(control);
    const mine = request();
    const attempt = claimed(await records.claim(mine));
    // Quotes and 3-byte characters: the Data API answers each part as an escaped JSON string.
    const body = JSON.stringify({ v: `"€😀`.repeat(60_000), w: 'y'.repeat(300_000) });

    expect(await records.complete(mine, attempt, { statusCode: 201, headers: {}, body })).toBe(true);
    const replay = await records.claim(mine);

    expect(replay.kind).toBe('completed');
    expect(replay.kind === 'completed' && replay.response.body === body).toBe(true);
    expect((await rowsOf(attempt.token)).parts).toBeGreaterThanOrEqual(
      Math.ceil(body.length / RESPONSE_PART_CHARS),
    );
  });

  it('refuses what the table must never hold: a malformed key, a 5xx kept as an answer', async () => {
    const records = recordsOn(control);
    await expect(records.claim(request({ key: 'not a key!' }))).rejects.toThrow();
    const mine = request();
    const attempt = claimed(await records.claim(mine));
    await expect(
      records.complete(mine, attempt, { statusCode: 503, headers: {}, body: '' }),
    ).rejects.toThrow();
  });
});
