import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { servicesFrom } from '#shared/composition/services';
import { CustomRoleRepository } from '#shared/control/custom-role-repository';
import { IDEMPOTENCY_LEASE_SECONDS } from '#shared/control/idempotency-records';
import { derivedRoleId, derivedRowId } from '#shared/control/ids';
import { planSettingsFrom } from '#shared/domain/plans';
import { httpHandler } from '#shared/http/handler';
import { REPLAYED_HEADER } from '#shared/http/idempotency';
import type { IdempotentAttempt } from '#shared/ports/idempotency';
import { routes } from '#shared/routes/table';
import { saveRole } from '#shared/tenancy/roles';
import { type Actor, addMember, eventually, newActor } from '../support/actors.ts';
import { httpEvent, lambdaContext } from '../support/http-events.ts';
import { controlAsApp, manualClock, newKey, recordsOn, requestAsSent } from '../support/idempotency.ts';
import { TEST_PLANS } from '../support/platform-process.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';
import { COMPLETE_SETTINGS, inTenantDatabase, tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Retry-safe writes end to end (docs/retry-safe-writes.md): every creating POST of the local
 * platform called with an Idempotency-Key, retried in sequence and all at once, with other bodies,
 * by other users, after the key expired, and after an attempt that died once its write committed.
 * What an earlier attempt left behind is planted with the store the functions use, on the same
 * control database, with a clock set in the past.
 */

const info = inject('platform');
const client = new LocalClient(info);
const control = controlAsApp(info);
afterAll(() => {
  client.close();
  control.close();
});

type Answer = Awaited<ReturnType<LocalClient['call']>>;

let owner: Actor;
let admin: Actor;
let tenantId: string;
let databaseId: string;
let base: string;

const send = (actor: Actor, method: string, path: string, body: unknown, key?: string) =>
  client.call(method, path, {
    token: actor.token,
    body,
    headers: key === undefined ? {} : { 'idempotency-key': key },
  });

const replayed = (answer: Answer) => answer.headers.get(REPLAYED_HEADER) === 'true';

/** Items of a listing (first page of 100) that match. */
async function matching<T>(path: string, match: (item: T) => boolean): Promise<T[]> {
  const separator = path.includes('?') ? '&' : '?';
  const page = expectStatus(await owner.call('GET', `${path}${separator}limit=100`), 200).body as {
    items: T[];
  };
  return page.items.filter(match);
}

const rolesNamed = (name: string) =>
  matching<{ id: string; name: string }>(`/tenants/${tenantId}/roles`, (r) => r.name === name);
const rowsWith = (text: string) =>
  matching<{ id: string }>(
    `${base}/tables/notes/rows?filter[text][eq]=${encodeURIComponent(text)}`,
    () => true,
  );

const rolePath = () => `/tenants/${tenantId}/roles`;
const roleBody = (name: string) => ({ name, permissions: { rows: ['read'] } });

beforeAll(async () => {
  [owner, admin] = await Promise.all([newActor(client, 'idem-owner'), newActor(client, 'idem-admin')]);
  ({ tenantId, databaseId, base } = await tenantWithDatabase(owner, COMPLETE_SETTINGS));
  await addMember(owner, tenantId, admin, 'admin');
  expectStatus(
    await owner.call('POST', `${base}/tables`, { name: 'notes', columns: [{ name: 'text', type: 'text' }] }),
    201,
  );
});

describe('sequential retries with the same key', () => {
  /** Each creating route: the request, and how many objects it has made. */
  const kinds = [
    {
      kind: 'a custom role',
      request: (tag: string) => ({ path: rolePath(), body: roleBody(`Role ${tag}`) }),
      made: async (tag: string) => (await rolesNamed(`Role ${tag}`)).length,
    },
    {
      kind: 'a database',
      request: (tag: string) => ({ path: `/tenants/${tenantId}/databases`, body: { label: `db${tag}` } }),
      made: async (tag: string) =>
        (await matching<{ label: string }>(`/tenants/${tenantId}/databases`, (d) => d.label === `db${tag}`))
          .length,
    },
    {
      kind: 'a table',
      request: (tag: string) => ({
        path: `${base}/tables`,
        body: { name: `t_${tag}`, columns: [{ name: 'v', type: 'integer' }] },
      }),
      made: async (tag: string) =>
        (await owner.call('GET', `${base}/tables/t_${tag}`)).status === 200 ? 1 : 0,
    },
    {
      kind: 'a row',
      request: (tag: string) => ({ path: `${base}/tables/notes/rows`, body: { text: `row ${tag}` } }),
      made: async (tag: string) => (await rowsWith(`row ${tag}`)).length,
    },
    {
      kind: 'a member invitation',
      request: (tag: string) => ({
        path: `/tenants/${tenantId}/members`,
        body: { email: `invitee-${tag}@example.com`, role: 'viewer' },
      }),
      made: async (tag: string) =>
        (
          await matching<{ email: string }>(
            `/tenants/${tenantId}/invitations`,
            (i) => i.email === `invitee-${tag}@example.com`,
          )
        ).length,
    },
  ];

  it.each(kinds)(
    'make one object ($kind) and answer the first status and body again, marked as a replay',
    async ({ request, made }) => {
      // Arrange
      const tag = randomUUID().slice(0, 8).replaceAll('-', '');
      const { path, body } = request(tag);
      const key = newKey('seq');

      // Act
      const first = await send(owner, 'POST', path, body, key);
      const second = await send(owner, 'POST', path, body, key);
      const third = await send(owner, 'POST', path, body, key);

      // Assert
      expect(first.status, JSON.stringify(first.body)).toBeLessThan(300);
      for (const again of [second, third]) {
        expect(again.status).toBe(first.status);
        expect(again.body).toEqual(first.body);
        expect(replayed(again)).toBe(true);
        expect(again.headers.get('x-request-id')).not.toBe(first.headers.get('x-request-id'));
      }
      expect(replayed(first)).toBe(false);
      expect(await made(tag)).toBe(1);
    },
  );

  it('audits the replay as a request of its own, marked replayed, and the first one not', async () => {
    // Arrange
    const key = newKey('audit');
    const body = roleBody(`Audited ${randomUUID().slice(0, 8)}`);
    // Act
    const first = expectStatus(await send(owner, 'POST', rolePath(), body, key), 201);
    const again = expectStatus(await send(owner, 'POST', rolePath(), body, key), 201);
    // Assert
    type Audit = { items: { requestId: string; details: Record<string, unknown> }[] };
    const ids = [first, again].map((answer) => answer.headers.get('x-request-id'));
    const log = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/audit?limit=100`),
      (r) => ids.every((id) => ((r.body as Audit).items ?? []).some((item) => item.requestId === id)),
    );
    const [original, replay] = ids.map((id) =>
      (log.body as Audit).items.find((item) => item.requestId === id),
    );
    expect(original?.details.replayed).toBeUndefined();
    expect(replay?.details.replayed).toBe(true);
    expect(replay?.details.body).toEqual(original?.details.body);
  });

  it('without a key the same requests make two rows: the key is what makes the retries safe', async () => {
    const text = `keyless ${randomUUID()}`;
    expectStatus(await send(owner, 'POST', `${base}/tables/notes/rows`, { text }), 201);
    expectStatus(await send(owner, 'POST', `${base}/tables/notes/rows`, { text }), 201);
    expect(await rowsWith(text)).toHaveLength(2);
  });

  it('POST /tenants answers its first 202 and location again; enabling a module its first 201, not "already enabled"', async () => {
    const key = newKey('tenant');
    const first = await send(owner, 'POST', '/tenants', { name: 'Replayed Co' }, key);
    const again = await send(owner, 'POST', '/tenants', { name: 'Replayed Co' }, key);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('location')).toBe(`/tenants/${(first.body as { id: string }).id}`);

    const moduleKey = newKey('module');
    const enable = { moduleId: 'billing', databaseId };
    const enabled = await send(owner, 'POST', `/tenants/${tenantId}/modules`, enable, moduleKey);
    const retried = await send(owner, 'POST', `/tenants/${tenantId}/modules`, enable, moduleKey);
    const keyless = await send(owner, 'POST', `/tenants/${tenantId}/modules`, enable);
    expect([enabled.status, retried.status, keyless.status]).toEqual([201, 201, 200]);
    expect(retried.body).toEqual(enabled.body);
  });

  it('closing a month answers its first result again, header included', async () => {
    const finance = await newActor(client, 'idem-finance', { groups: ['finance'] });
    // A month no other test closes.
    const path = '/usage/exports/1990-07/close';
    const key = newKey('close');
    const first = expectStatus(await send(finance, 'POST', path, undefined, key), 200);
    const again = expectStatus(await send(finance, 'POST', path, undefined, key), 200);
    const keyless = expectStatus(await send(finance, 'POST', path, undefined), 200);
    expect(first.headers.get('x-tenantry-month-close')).toBe('created');
    expect(again.headers.get('x-tenantry-month-close')).toBe('created');
    expect(keyless.headers.get('x-tenantry-month-close')).toBe('existing');
    expect(again.body).toEqual(first.body);
  });

  it('a final 4xx is kept too: a retry of a refused request answers the same refusal', async () => {
    const name = `Taken ${randomUUID().slice(0, 6)}`;
    expectStatus(await send(owner, 'POST', rolePath(), roleBody(name)), 201);
    const key = newKey('refused');
    const refused = await send(owner, 'POST', rolePath(), roleBody(name), key);
    const again = await send(owner, 'POST', rolePath(), roleBody(name), key);
    expect(refused.status).toBe(409);
    expect(again.status).toBe(409);
    expect(again.body).toEqual(refused.body);
    expect(replayed(again)).toBe(true);
  });
});

describe('concurrent retries with the same key', () => {
  it.each([
    ['a custom role', () => ({ path: rolePath(), body: roleBody(`Burst ${randomUUID().slice(0, 6)}`) })],
    ['a row', () => ({ path: `${base}/tables/notes/rows`, body: { text: `burst ${randomUUID()}` } })],
  ] as const)(
    'make one object (%s); each answer is the first result or 409 idempotency_in_progress with Retry-After',
    async (_, request) => {
      // Arrange
      const { path, body } = request();
      const key = newKey('burst');

      // Act
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => send(owner, 'POST', path, body, key)),
      );

      // Assert
      const created = answers.filter((answer) => answer.status === 201);
      const busy = answers.filter((answer) => answer.status !== 201);
      expect(created.length).toBeGreaterThan(0);
      expect(created.filter((answer) => !replayed(answer))).toHaveLength(1);
      for (const answer of created) expect(answer.body).toEqual(created[0]?.body);
      for (const answer of busy) {
        expect(answer.status).toBe(409);
        expect(errorOf(answer)?.code).toBe('idempotency_in_progress');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      const made =
        'name' in body ? await rolesNamed(body.name) : await rowsWith((body as { text: string }).text);
      expect(made).toHaveLength(1);
    },
  );
});

describe('the same key for another request, or by another user', () => {
  it('another body is a 422 idempotency_key_mismatch and writes nothing; so is another route', async () => {
    const key = newKey('mismatch');
    const [first, second] = [`First ${randomUUID().slice(0, 6)}`, `Second ${randomUUID().slice(0, 6)}`];
    expectStatus(await send(owner, 'POST', rolePath(), roleBody(first), key), 201);

    const otherBody = await send(owner, 'POST', rolePath(), roleBody(second), key);
    const otherRoute = await send(
      owner,
      'POST',
      `${base}/tables`,
      { name: `mismatch_${randomUUID().slice(0, 6)}`, columns: [{ name: 'v', type: 'text' }] },
      key,
    );

    expect(otherBody.status).toBe(422);
    expect(errorOf(otherBody)?.code).toBe('idempotency_key_mismatch');
    expect(otherRoute.status).toBe(422);
    expect(await rolesNamed(second)).toHaveLength(0);
    expect(
      (await matching<{ name: string }>(`${base}/tables`, (t) => t.name.startsWith('mismatch_'))).length,
    ).toBe(0);
  });

  it("another user's identical key is independent of the first user's", async () => {
    const key = newKey('shared');
    const text = `two users ${randomUUID()}`;
    const mine = expectStatus(await send(owner, 'POST', `${base}/tables/notes/rows`, { text }, key), 201);
    const theirs = expectStatus(await send(admin, 'POST', `${base}/tables/notes/rows`, { text }, key), 201);
    // The same key for another request: another user's, so not a mismatch.
    const other = newKey('shared-other');
    expectStatus(
      await send(owner, 'POST', rolePath(), roleBody(`Owner ${randomUUID().slice(0, 6)}`), other),
      201,
    );
    const adminName = `Admin ${randomUUID().slice(0, 6)}`;
    const theirsOther = await send(admin, 'POST', rolePath(), roleBody(adminName), other);

    expect(replayed(theirs)).toBe(false);
    expect((theirs.body as { id: string }).id).not.toBe((mine.body as { id: string }).id);
    expect(await rowsWith(text)).toHaveLength(2);
    expect(theirsOther.status).toBe(201);
    expect(await rolesNamed(adminName)).toHaveLength(1);
  });
});

describe('expiry', () => {
  it('once the key has expired it can be used again, for the same request or another', async () => {
    // Arrange: the key answered a role 25 hours ago (its record, kept by a clock set then).
    const clock = manualClock(Date.now() - 25 * 3_600_000);
    const records = recordsOn(control, { now: clock.now });
    const key = newKey('expired');
    const oldName = `Yesterday ${randomUUID().slice(0, 6)}`;
    const planted = requestAsSent(routes.createRole, owner.userId, key, { tenantId }, roleBody(oldName));
    const claim = await records.claim(planted);
    if (claim.kind !== 'claimed') throw new Error('the planted key was taken');
    await records.complete(planted, claim.attempt, {
      statusCode: 201,
      headers: {},
      body: '{"planted":true}',
    });

    // Act: the same key, for the same request and then for another one.
    const same = await send(owner, 'POST', rolePath(), roleBody(oldName), key);
    const newName = `Today ${randomUUID().slice(0, 6)}`;
    const other = await send(owner, 'POST', rolePath(), roleBody(newName), newKey('fresh'));
    const reused = await send(owner, 'POST', rolePath(), roleBody(newName), key);

    // Assert: the expired answer is not given; the request ran; a live key still guards.
    expect(same.status).toBe(201);
    expect(replayed(same)).toBe(false);
    expect(same.body).toMatchObject({ name: oldName });
    expect(other.status).toBe(201);
    expect(reused.status).toBe(422);
  });
});

describe('expiry of a registration key', () => {
  it('POST /tenants: once the key has expired, it registers a new tenant, whatever the body', async () => {
    // Arrange: a registration with the key, then 25 hours pass (for its idempotency record and the
    // registration's own key, moved back behind the API's back).
    const key = newKey('tenant-expired');
    const first = expectStatus(await send(owner, 'POST', '/tenants', { name: 'Day one' }, key), 202);
    await withPg(info, 'control', async (pg) => {
      await pg.query(
        `update idempotency_records set created_at = created_at - interval '25 hours',
                expires_at = expires_at - interval '25 hours' where user_id = $1 and idempotency_key = $2`,
        [owner.userId, key],
      );
      await pg.query(
        `update tenant_registrations set created_at = created_at - interval '25 hours'
          where user_id = $1 and idempotency_key = $2`,
        [owner.userId, key],
      );
    });

    // Act
    const later = await send(owner, 'POST', '/tenants', { name: 'Day two' }, key);

    // Assert
    expect(later.status).toBe(202);
    expect(replayed(later)).toBe(false);
    expect((later.body as { id: string; name: string }).id).not.toBe((first.body as { id: string }).id);
    expect(later.body).toMatchObject({ name: 'Day two' });
  });
});

describe('an attempt that died after its write committed', () => {
  const planAttempt = async (request: ReturnType<typeof requestAsSent>, startedMsAgo: number) => {
    const clock = manualClock(Date.now() - startedMsAgo);
    const claim = await recordsOn(control, { now: clock.now }).claim(request);
    if (claim.kind !== 'claimed') throw new Error('the planted key was taken');
    return claim.attempt;
  };
  const pastLease = (IDEMPOTENCY_LEASE_SECONDS + 30) * 1000;

  it('its lease ended: a retry runs again and answers the role the first attempt made, not a second one nor a 409', async () => {
    // Arrange: the first attempt claimed the key 2 minutes ago, made the role, and died.
    const key = newKey('died');
    const name = `Orphan ${randomUUID().slice(0, 6)}`;
    const attempt = await planAttempt(
      requestAsSent(routes.createRole, owner.userId, key, { tenantId }, roleBody(name)),
      pastLease,
    );
    await new CustomRoleRepository(control.runner).save(
      tenantId,
      derivedRoleId(attempt.token),
      name,
      ['rows:read'],
      'create',
    );

    // Act
    const retry = await send(owner, 'POST', rolePath(), roleBody(name), key);
    const again = await send(owner, 'POST', rolePath(), roleBody(name), key);

    // Assert
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toMatchObject({ id: derivedRoleId(attempt.token), name });
    expect(replayed(retry)).toBe(false);
    expect(again.body).toEqual(retry.body);
    expect(replayed(again)).toBe(true);
    expect(await rolesNamed(name)).toHaveLength(1);
  });

  it('its lease ended and it wrote nothing: the retry makes the object, once', async () => {
    const key = newKey('died-early');
    const name = `Never made ${randomUUID().slice(0, 6)}`;
    await planAttempt(
      requestAsSent(routes.createRole, owner.userId, key, { tenantId }, roleBody(name)),
      pastLease,
    );

    const retry = await send(owner, 'POST', rolePath(), roleBody(name), key);

    expect(retry.status).toBe(201);
    expect(await rolesNamed(name)).toHaveLength(1);
  });

  it('a row in a tenant database: the re-run answers the row the first attempt inserted', async () => {
    const key = newKey('died-row');
    const text = `orphan row ${randomUUID()}`;
    const path = { tenantId, databaseId, table: 'notes' };
    const attempt = await planAttempt(
      requestAsSent(routes.insertRow, owner.userId, key, path, { text }),
      pastLease,
    );
    await inTenantDatabase(info, databaseId, (pg) =>
      pg.query('insert into notes (id, text) values ($1, $2)', [derivedRowId(attempt.token), text]),
    );

    const retry = await send(owner, 'POST', `${base}/tables/notes/rows`, { text }, key);

    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toMatchObject({ id: derivedRowId(attempt.token), text });
    expect(await rowsWith(text)).toHaveLength(1);
  });

  it('a table: its name is its identity, so the re-run makes no second one and answers 409 conflict (documented)', async () => {
    const key = newKey('died-table');
    const name = `orphan_${randomUUID().slice(0, 8)}`;
    const body = { name, columns: [{ name: 'v', type: 'text' }] };
    await planAttempt(
      requestAsSent(routes.createTable, owner.userId, key, { tenantId, databaseId }, body),
      pastLease,
    );
    await inTenantDatabase(info, databaseId, (pg) => pg.query(`create table ${name} (v text)`));

    const retry = await send(owner, 'POST', `${base}/tables`, body, key);

    expect(retry.status).toBe(409);
    expect(errorOf(retry)).toMatchObject({
      code: 'conflict',
      message: 'A table with this name already exists',
    });
    expect((await matching<{ name: string }>(`${base}/tables`, (t) => t.name === name)).length).toBe(1);
  });

  it('within its lease: a retry waits, then answers 409 with Retry-After (1 s while it may run, the lease left once it cannot)', async () => {
    const name = `Busy ${randomUUID().slice(0, 6)}`;
    const [running, dead] = [newKey('running'), newKey('dead')];
    await planAttempt(
      requestAsSent(routes.createRole, owner.userId, running, { tenantId }, roleBody(name)),
      0,
    );
    await planAttempt(
      requestAsSent(routes.createRole, owner.userId, dead, { tenantId }, roleBody(name)),
      60_000,
    );

    const started = Date.now();
    const [stillRunning, outlived] = await Promise.all([
      send(owner, 'POST', rolePath(), roleBody(name), running),
      send(owner, 'POST', rolePath(), roleBody(name), dead),
    ]);

    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    for (const answer of [stillRunning, outlived]) {
      expect(answer.status).toBe(409);
      expect(errorOf(answer)?.code).toBe('idempotency_in_progress');
    }
    expect(stillRunning.headers.get('retry-after')).toBe('1');
    const left = Number(outlived.headers.get('retry-after'));
    expect(left).toBeGreaterThan(IDEMPOTENCY_LEASE_SECONDS - 60 - 10);
    expect(left).toBeLessThanOrEqual(IDEMPOTENCY_LEASE_SECONDS - 60);
    expect(await rolesNamed(name)).toHaveLength(0);
  });

  it('a handler that throws after committing answers 500, keeps no answer, and the retry answers what it made', async () => {
    // Arrange: the route's own chain, on the platform's control database, with a handler that
    // makes the role and then fails as a function that dies would.
    const fails = () => {
      throw new Error('not used by this handler');
    };
    const services = servicesFrom({
      // The platform's plans: the tenant is on its default plan (test/support/platform-process.ts).
      settings: () => ({
        stage: info.stage,
        controlDatabase: 'control',
        plans: planSettingsFrom(JSON.stringify(TEST_PLANS)),
      }),
      control: () => control.runner,
      masterControl: fails,
      identity: fails,
      workflows: fails,
      clusters: fails,
      secrets: fails,
      events: fails,
    });
    let made: IdempotentAttempt | null = null;
    const crashing = httpHandler(
      routes.createRole,
      async ({ grant, body, idempotency }, services) => {
        made = idempotency;
        await saveRole(services, grant, body, idempotency);
        throw new Error('the function died after its write committed');
      },
      { telemetry: () => null },
    ).with(services);
    const key = newKey('threw');
    const name = `Half done ${randomUUID().slice(0, 6)}`;

    // Act
    const crashed = await crashing(
      httpEvent({
        method: 'POST',
        path: rolePath(),
        pathParameters: { tenantId },
        body: roleBody(name),
        headers: { 'idempotency-key': key },
        claims: { sub: owner.userId, email: owner.email, token_use: 'id' },
      }),
      lambdaContext,
    );
    const retry = await send(owner, 'POST', rolePath(), roleBody(name), key);

    // Assert
    expect(crashed.statusCode).toBe(500);
    const attempt = made as IdempotentAttempt | null;
    expect(attempt).toMatchObject({ attempt: 1, rerun: false });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toMatchObject({ id: derivedRoleId(attempt?.token ?? ''), name });
    expect(await rolesNamed(name)).toHaveLength(1);
  });
});
