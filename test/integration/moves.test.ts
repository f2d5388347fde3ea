import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, eventually, newActor } from '../support/actors.ts';
import { POOLED_TEST_PLAN } from '../support/platform-process.ts';
import { errorOf, expectStatus } from '../support/tenancy.ts';
import { placementOf, tenantWithDatabase } from '../support/tenant-data.ts';

/*
 * Moves over the API on the local platform (issue 18; docs/isolation-modes.md, "Moves"): a
 * platform admin moves a tenant between the isolations (`PUT …/isolation`, and a plan of the
 * other isolation) while its owner keeps writing. Every write answers 201, or 503
 * `database_moving` with Retry-After while the rows are frozen; every accepted row is in the
 * moved database, and `GET …/provisioning` shows the move's steps. Each step's failure and the
 * rollback are test/integration/move-saga.test.ts; a move to another cluster over the API is in
 * test/integration/clusters.test.ts (the file that owns c2's state).
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

interface MoveView {
  moveId: string;
  phase: string;
  isolation: string;
  databases: {
    databaseId: string;
    fromClusterId: string;
    toClusterId: string;
    verification?: { checksum: string };
  }[];
  workflow: { status: string; steps: { name: string }[] } | null;
}

/** Polls the tenant's provisioning status until the move has ended (completed or failed). */
async function movedTo(admin: Actor, tenantId: string, moveId: string): Promise<MoveView> {
  const done = await eventually(
    async () =>
      (
        expectStatus(await admin.call('GET', `/tenants/${tenantId}/provisioning`), 200).body as {
          move: MoveView;
        }
      ).move,
    (move) =>
      move?.moveId === moveId &&
      ['completed', 'failed'].includes(move.phase) &&
      move.workflow?.status !== 'RUNNING',
    120_000,
  );
  return done;
}

/** Every row of the table through the API, in its id order, and their sha256. */
async function rowsOf(actor: Actor, base: string, table: string) {
  const rows: { id: string }[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = expectStatus(await actor.call('GET', `${base}/tables/${table}/rows?limit=100${query}`), 200)
      .body as { items: { id: string }[]; nextCursor: string | null };
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return {
    ids: new Set(rows.map((r) => r.id)),
    count: rows.length,
    sha256: createHash('sha256').update(JSON.stringify(rows)).digest('hex'),
  };
}

/** Inserts rows one after another until stopped; every answer kept. */
function writer(actor: Actor, base: string) {
  const answers: { status: number; retryAfter: string | null; code: string | undefined; id?: string }[] = [];
  let stopped = false;
  const done = (async () => {
    for (let n = 0; !stopped; n++) {
      const response = await actor.call('POST', `${base}/tables/notes/rows`, { body: `during ${n}` });
      answers.push({
        status: response.status,
        retryAfter: response.headers.get('retry-after'),
        code: response.status >= 400 ? errorOf(response)?.code : undefined,
        ...(response.status === 201 ? { id: (response.body as { id: string }).id } : {}),
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    answers,
    stop: async () => {
      stopped = true;
      await done;
      return answers;
    },
  };
}

describe('moves between isolations over the API', () => {
  let admin: Actor;
  let owner: Actor;
  let tenantId: string;
  let databaseId: string;
  let base: string;

  beforeAll(async () => {
    [admin, owner] = await Promise.all([
      newActor(client, 'moves-admin', { groups: ['platform-admin'] }),
      newActor(client, 'moves-owner'),
    ]);
    ({ tenantId, databaseId, base } = await tenantWithDatabase(owner));
    expectStatus(
      await owner.call('POST', `${base}/tables`, {
        name: 'notes',
        columns: [{ name: 'body', type: 'text' }],
      }),
      201,
    );
    const rows = Array.from({ length: 300 }, (_, n) => ({ body: `before ${n}` }));
    expectStatus(await owner.call('POST', `${base}/tables/notes/rows/batch`, { rows }), 201);
  });

  it('silo → pool while the owner writes: each write 201 or 503 with Retry-After, every accepted row moved, steps shown', async () => {
    const before = await rowsOf(owner, base, 'notes');
    const writes = writer(owner, base);
    const started = expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/isolation`, { isolation: 'pool' }),
      202,
    ).body as MoveView;
    expect(started).toMatchObject({ isolation: 'pool', phase: 'copying', databases: [{ databaseId }] });
    // Only one move at a time.
    const second = await admin.call('PUT', `/tenants/${tenantId}/isolation`, { isolation: 'pool' });
    expect(second.status).toBe(409);
    expect(errorOf(second)).toMatchObject({ reason: 'move_in_progress' });

    const move = await movedTo(admin, tenantId, started.moveId);
    const answers = await writes.stop();

    expect(move.phase).toBe('completed');
    expect(move.workflow?.steps.map((s) => s.name)).toEqual(
      expect.arrayContaining(['PlanMove', 'FreezeMoveWrites', 'SwitchMove', 'MoveSourceGrace', 'FinishMove']),
    );
    expect(move.databases[0]?.verification?.checksum).toMatch(/^[0-9a-f]{64}$/);
    for (const answer of answers) {
      if (answer.status === 201) continue;
      expect(answer).toMatchObject({ status: 503, code: 'database_moving', retryAfter: '2' });
    }
    const accepted = answers.filter((a) => a.status === 201).map((a) => a.id as string);
    expect(accepted.length).toBeGreaterThan(0);
    const after = await rowsOf(owner, base, 'notes');
    expect(after.count).toBe(before.count + accepted.length);
    for (const id of accepted) expect(after.ids.has(id)).toBe(true);
    for (const id of before.ids) expect(after.ids.has(id)).toBe(true);
    expect((await placementOf(info, databaseId)).schema).not.toBeNull();
    expect(
      (expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as { isolation: string })
        .isolation,
    ).toBe('pool');
  });

  it('a plan of the other isolation starts the move back to silo: rows identical, the plan set', async () => {
    const before = await rowsOf(owner, base, 'notes');
    const changed = expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/plan`, { plan: 'generous' }),
      200,
    ).body as { plan: string; move: MoveView };
    expect(changed.plan).toBe('generous');
    expect(changed.move).toMatchObject({ isolation: 'silo', phase: 'copying' });

    const move = await movedTo(admin, tenantId, changed.move.moveId);
    expect(move.phase).toBe('completed');
    expect(await rowsOf(owner, base, 'notes')).toEqual(before);
    expect((await placementOf(info, databaseId)).schema).toBeNull();
    const tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
      isolation: string;
      plan: string;
    };
    expect(tenant).toMatchObject({ isolation: 'silo', plan: 'generous' });
    // Writes go on in the silo database.
    expectStatus(await owner.call('POST', `${base}/tables/notes/rows`, { body: 'after' }), 201);
  });

  it('a plan of the same isolation moves nothing; a refused move leaves the plan as it was', async () => {
    const same = expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/plan`, { plan: 'generous' }),
      200,
    ).body;
    expect(same).not.toHaveProperty('move');
    // A suspended tenant is not moved: the pooled plan's move is refused, and the plan stays.
    expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/status`, {
        status: 'suspended',
        reason: 'Paused for the test',
      }),
      200,
    );
    const refused = await admin.call('PUT', `/tenants/${tenantId}/plan`, { plan: POOLED_TEST_PLAN });
    expect(refused.status).toBe(409);
    expect(errorOf(refused)).toMatchObject({ reason: 'tenant_not_active' });
    expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/status`, { status: 'active', reason: 'Resumed' }),
      200,
    );
    const tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
      plan: string;
      isolation: string;
    };
    expect(tenant).toMatchObject({ plan: 'generous', isolation: 'silo' });
  });
});
