import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { MAX_ROW_BYTES } from '#shared/data/row-size';
import { MAX_COLUMNS } from '#shared/data/tables';
import { MAX_BODY_BYTES } from '#shared/http/middleware';
import { routeList } from '#shared/routes/table';
import { type Actor, addMember, newActor, newTenant } from '../support/actors.ts';
import { errorOf, expectStatus, unknownRoleId, withPg } from '../support/tenancy.ts';
import { sendText } from '../support/tenant-data.ts';

/**
 * Bad input on the local platform: every malformed id, body, cursor and limit gets a clear 4xx
 * (never a 500), validation errors name the offending field, and nothing is written.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type Answer = { status: number; body: unknown };

/** A request with a raw body and headers of our choosing. */
async function raw(actor: Actor, method: string, path: string, body: string | Buffer, contentType?: string) {
  const response = await fetch(new URL(path, info.apiUrl), {
    method,
    headers: {
      authorization: `Bearer ${actor.token}`,
      ...(contentType ? { 'content-type': contentType } : {}),
    },
    body,
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body: parsed };
}

const detailPaths = (response: Answer) =>
  ((errorOf(response as Parameters<typeof errorOf>[0])?.details ?? []) as { path?: string }[]).map(
    (d) => d.path,
  );

function expectValidation(response: Answer, ...paths: string[]) {
  expect(response.status, JSON.stringify(response.body)).toBe(400);
  const error = (response.body as { error: { code: string; message: string } }).error;
  expect(error.code).toBe('validation_failed');
  for (const path of paths) {
    expect(detailPaths(response), `details should name ${path}`).toContain(path);
    expect(error.message).toContain(path);
  }
}

describe('bad input', () => {
  let owner: Actor;
  let member: Actor;
  let tenantId: string;
  let roleId: string;

  const snapshot = async () => {
    const [tenant, members, roles, me] = await Promise.all([
      owner.call('GET', `/tenants/${tenantId}`),
      owner.call('GET', `/tenants/${tenantId}/members?limit=100`),
      owner.call('GET', `/tenants/${tenantId}/roles`),
      owner.call('GET', '/me'),
    ]);
    for (const response of [tenant, members, roles, me]) expectStatus(response, 200);
    return { tenant: tenant.body, members: members.body, roles: roles.body, me: me.body };
  };
  let before: Awaited<ReturnType<typeof snapshot>>;

  beforeAll(async () => {
    [owner, member] = await Promise.all([newActor(client, 'bad-owner'), newActor(client, 'bad-member')]);
    ({ tenantId } = await newTenant(owner));
    await addMember(owner, tenantId, member, 'member');
    const role = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/roles`, {
        name: 'Auditors',
        permissions: { audit: ['read'] },
      }),
      201,
    );
    roleId = (role.body as { id: string }).id;
    before = await snapshot();
  });

  const tenantRoutes = routeList.filter((route) => route.access.kind === 'tenant');
  const malformedTenantIds = [
    'nope',
    't_UPPERCASEISNOTBASE32X',
    `t_${'a'.repeat(21)}`,
    `t_${'a'.repeat(2000)}`,
    "t_aaaaaaaaaaaaaaaaaaaa' or '1'='1",
    't_aaaaaaaaaaaaaaaaaaaa\u0000',
    '\u0000',
    '%',
    '..',
    'tést-ünïcode-😀',
  ];

  it('a malformed tenant id in any tenant route is a 4xx, never a 500 (generated from the route table)', async () => {
    for (const route of tenantRoutes) {
      for (const bad of malformedTenantIds) {
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
          encodeURIComponent(name === 'tenantId' ? bad : name === 'userId' ? member.userId : roleId),
        );
        const response = await owner.call(route.method, path, route.request.body ? {} : undefined);
        expect(
          [400, 404],
          `${route.operationId} with tenantId ${JSON.stringify(bad)}: ${response.status}`,
        ).toContain(response.status);
      }
    }
  });

  const malformedIds = ['nope', '1', `${'a'.repeat(300)}`, "' or 1=1 --", 'x\u0000y', '😀'];

  it.each([
    ['PATCH', 'userId', (id: string) => `/members/${id}`, { role: 'viewer' }],
    ['DELETE', 'userId', (id: string) => `/members/${id}`, undefined],
    ['PUT', 'roleId', (id: string) => `/roles/${id}`, { name: 'x', permissions: { audit: ['read'] } }],
    ['DELETE', 'roleId', (id: string) => `/roles/${id}`, undefined],
    ['PUT', 'userId', (id: string) => `/members/${id}/roles/r_aaaaaaaaaaaaaaaa`, undefined],
    [
      'DELETE',
      'roleId',
      (id: string) => `/members/00000000-0000-4000-8000-000000000000/roles/${id}`,
      undefined,
    ],
  ] as const)('%s with a malformed %s is a 400 naming it', async (method, field, path, body) => {
    for (const bad of malformedIds) {
      const response = await owner.call(method, `/tenants/${tenantId}${path(encodeURIComponent(bad))}`, body);
      expectValidation(response, field);
    }
  });

  it('a malformed invitation id is a 400 naming invitationId, on the tenant side and the invitee side', async () => {
    const paths = (id: string) => [
      ['DELETE', `/tenants/${tenantId}/invitations/${id}`],
      ['POST', `/me/invitations/${id}/accept`],
      ['POST', `/me/invitations/${id}/decline`],
    ];
    for (const bad of [
      ...malformedIds,
      'i_AAAAAAAAAAAAAAAAAAAA',
      'i_aaaaaaaaaaaaaaaaaaa1',
      'r_aaaaaaaaaaaaaaaaaaaa',
    ]) {
      for (const [method, path] of paths(encodeURIComponent(bad)) as [string, string][]) {
        expectValidation(await owner.call(method, path), 'invitationId');
      }
    }
    // Well-formed ids of nothing: 404 on both sides.
    for (const [method, path] of paths('i_aaaaaaaaaaaaaaaaaaaa') as [string, string][]) {
      expect({ method, path, status: (await member.call(method, path)).status }).toEqual({
        method,
        path,
        status: method === 'DELETE' ? 403 : 404,
      });
    }
  });

  it('well-formed ids of nothing are 404s', async () => {
    const nobody = randomUUID();
    expect(
      (await owner.call('PATCH', `/tenants/${tenantId}/members/${nobody}`, { role: 'viewer' })).status,
    ).toBe(404);
    expect((await owner.call('DELETE', `/tenants/${tenantId}/members/${nobody}`)).status).toBe(404);
    expect((await owner.call('DELETE', `/tenants/${tenantId}/roles/${unknownRoleId()}`)).status).toBe(404);
    expect(
      (
        await owner.call('PUT', `/tenants/${tenantId}/roles/${unknownRoleId()}`, {
          name: 'ghost',
          permissions: { audit: ['read'] },
        })
      ).status,
    ).toBe(404);
    expect((await owner.call('PUT', `/tenants/${tenantId}/members/${nobody}/roles/${roleId}`)).status).toBe(
      404,
    );
    expect(
      (await owner.call('PUT', `/tenants/${tenantId}/members/${member.userId}/roles/${unknownRoleId()}`))
        .status,
    ).toBe(404);
    expect(
      (await owner.call('DELETE', `/tenants/${tenantId}/members/${member.userId}/roles/${roleId}`)).status,
    ).toBe(404);
  });

  it('an unknown built-in role in an invitation or a role change is a 400 naming role', async () => {
    for (const role of ['superuser', 'Owner', '', null, 1, ['admin']]) {
      expectValidation(
        await owner.call('POST', `/tenants/${tenantId}/members`, { email: 'someone@example.com', role }),
        'role',
      );
      expectValidation(
        await owner.call('PATCH', `/tenants/${tenantId}/members/${member.userId}`, { role }),
        'role',
      );
    }
  });

  it('bad emails in an invitation are a 400 naming email', async () => {
    for (const email of [
      'not-an-email',
      '',
      `${'a'.repeat(250)}@example.com`,
      'a"b@example.com',
      'x@y',
      null,
    ]) {
      expectValidation(
        await owner.call('POST', `/tenants/${tenantId}/members`, { email, role: 'viewer' }),
        'email',
      );
    }
  });

  it('an unknown resource or action, or an empty matrix, is a 400', async () => {
    const roles = `/tenants/${tenantId}/roles`;
    expectValidation(
      await owner.call('POST', roles, { name: 'a', permissions: { billing: ['read'] } }),
      'permissions.billing',
    );
    expectValidation(
      await owner.call('POST', roles, { name: 'a', permissions: { rows: ['drop'] } }),
      'permissions.rows.0',
    );
    expectValidation(
      await owner.call('POST', roles, { name: 'a', permissions: { rows: 'read' } }),
      'permissions.rows',
    );
    // Each resource has its own actions: tenants only createChild, and createChild only tenants.
    expectValidation(
      await owner.call('POST', roles, { name: 'a', permissions: { tenants: ['read'] } }),
      'permissions.tenants.0',
    );
    expectValidation(
      await owner.call('POST', roles, { name: 'a', permissions: { rows: ['createChild'] } }),
      'permissions.rows.0',
    );
    for (const permissions of [{}, { rows: [] }, [], null, 'rows:read']) {
      expectValidation(await owner.call('POST', roles, { name: 'a', permissions }), 'permissions');
    }
    expectValidation(
      await owner.call('PUT', `${roles}/${roleId}`, {
        name: 'Auditors',
        permissions: { audit: ['read', 'audit'] },
      }),
      'permissions.audit.1',
    );
  });

  it('bad role names are a 400 naming name', async () => {
    for (const name of ['', '   ', 'x'.repeat(65), 42, null]) {
      expectValidation(
        await owner.call('POST', `/tenants/${tenantId}/roles`, { name, permissions: { audit: ['read'] } }),
        'name',
      );
    }
  });

  it('text the database cannot store (NUL) is a 400, not a 500', async () => {
    const role = await owner.call('POST', `/tenants/${tenantId}/roles`, {
      name: 'null\u0000byte',
      permissions: { audit: ['read'] },
    });
    expectValidation(role, 'name');
    const tenant = await owner.call('POST', '/tenants', { name: 'null\u0000byte' });
    expectValidation(tenant, 'name');
    const settings = await owner.call('POST', '/tenants', {
      name: 'Fine name',
      address: { line1: 'a\u0000b', city: 'Paris', postalCode: '75001', country: 'FR' },
    });
    expectValidation(settings, 'address.line1');
  });

  it('extra fields are a 400 naming each of them', async () => {
    expectValidation(
      await owner.call('POST', `/tenants/${tenantId}/members`, {
        email: 'extra@example.com',
        role: 'viewer',
        isAdmin: true,
        tenantId,
      }),
      'isAdmin',
      'tenantId',
    );
    expectValidation(
      await owner.call('PATCH', `/tenants/${tenantId}/members/${member.userId}`, {
        role: 'viewer',
        userId: owner.userId,
      }),
      'userId',
    );
    expectValidation(
      await owner.call('POST', `/tenants/${tenantId}/roles`, {
        name: 'x',
        permissions: { audit: ['read'] },
        tenantId: 't_aaaaaaaaaaaaaaaaaaaa',
      }),
      'tenantId',
    );
    expectValidation(
      await owner.call('PUT', '/me/active-tenant', { tenantId, userId: member.userId }),
      'userId',
    );
    expectValidation(await owner.call('POST', '/tenants', { name: 'x', owner: member.userId }), 'owner');
  });

  it('a body that is not JSON is a 400; an empty or missing body is a 400 too', async () => {
    for (const body of ['{"email": ', 'not json', '{"a":1}}', '\u0000']) {
      const response = await raw(owner, 'POST', `/tenants/${tenantId}/members`, body, 'application/json');
      expect(response.status, JSON.stringify(response.body)).toBe(400);
    }
    const invalid = await raw(owner, 'POST', `/tenants/${tenantId}/roles`, '{"name":', 'application/json');
    expect(errorOf(invalid as Parameters<typeof errorOf>[0])?.details).toEqual([
      expect.objectContaining({ location: 'body', code: 'invalid_json' }),
    ]);
    for (const body of ['', 'null', '[]', '"text"', '42']) {
      const response = await raw(owner, 'POST', `/tenants/${tenantId}/roles`, body, 'application/json');
      expect(response.status, `${JSON.stringify(body)}: ${JSON.stringify(response.body)}`).toBe(400);
    }
  });

  it('a body nested 5,000 levels deep is a 4xx on every route that takes one, never a 500 (generated from the route table)', async () => {
    const deep = `{"name":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const route of routeList.filter((r) => r.request.body)) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
        name === 'tenantId'
          ? tenantId
          : name === 'userId'
            ? member.userId
            : name === 'roleId'
              ? roleId
              : name,
      );
      const response = await raw(owner, route.method, path, deep, 'application/json');
      expect(
        response.status,
        `${route.operationId}: ${JSON.stringify(response.body)}`,
      ).toBeGreaterThanOrEqual(400);
      expect(response.status, `${route.operationId}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
    for (const [method, path] of [
      ['POST', `/tenants/${tenantId}/roles`],
      ['PATCH', `/tenants/${tenantId}`],
      ['POST', `/tenants/${tenantId}/members`],
    ] as const) {
      const response = await raw(owner, method, path, deep, 'application/json');
      expect(errorOf(response as Parameters<typeof errorOf>[0])?.details, path).toEqual([
        expect.objectContaining({ location: 'body', code: 'too_deep' }),
      ]);
    }
  });

  it('an id never changes the route: dot segments and encoded slashes are a 400, and nothing is deleted', async () => {
    // Raw request targets: fetch (WHATWG URL) would resolve `..` and `%2e%2e` before sending.
    const send = (method: string, target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const url = new URL(info.apiUrl);
        const request = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method,
            path: target,
            headers: { authorization: `Bearer ${owner.token}` },
          },
          (response) => {
            let body = '';
            response.on('data', (chunk: Buffer) => {
              body += chunk.toString('utf8');
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.end();
      });
    for (const target of [
      `/tenants/${tenantId}/members/../roles/${roleId}`,
      `/tenants/${tenantId}/members/%2e%2e/roles/${roleId}`,
      `/tenants/${tenantId}/members/%2E%2e/roles/${roleId}`,
      `/tenants/${tenantId}/members/./../roles/${roleId}`,
      `/tenants/${tenantId}/roles/..%2F${roleId}`,
      `/tenants/${tenantId}/members/x%2F..%2Froles%2F${roleId}`,
      `/tenants/${tenantId}/members/%5C..`,
      `/tenants/${tenantId}/members/%zz`,
      `/tenants/${tenantId}/members/%C0%AE%C0%AE`,
    ]) {
      const response = await send('DELETE', target);
      expect(response.status, target).toBe(400);
      expect(JSON.parse(response.body).error.code, target).toBe('invalid_path');
    }
    const roles = expectStatus(await owner.call('GET', `/tenants/${tenantId}/roles`), 200).body as {
      items: { id: string }[];
    };
    expect(roles.items.map((role) => role.id)).toContain(roleId);
  });

  it('a body that is not declared as JSON is a 415', async () => {
    const body = JSON.stringify({ email: 'ct@example.com', role: 'viewer' });
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
    ]) {
      const response = await raw(owner, 'POST', `/tenants/${tenantId}/members`, body, type);
      expect(response.status, `${type}: ${JSON.stringify(response.body)}`).toBe(415);
    }
    const ok = await raw(
      owner,
      'PUT',
      '/me/active-tenant',
      JSON.stringify({ tenantId }),
      'application/json; charset=utf-8',
    );
    expect(ok.status).toBe(200);
  });

  it('a body over 256 KiB is a 413', async () => {
    const big = JSON.stringify({
      name: 'big',
      permissions: { audit: ['read'] },
      pad: 'x'.repeat(MAX_BODY_BYTES),
    });
    expect(MAX_BODY_BYTES).toBe(256 * 1024);
    const response = await raw(owner, 'POST', `/tenants/${tenantId}/roles`, big, 'application/json');
    expect(response.status).toBe(413);
    expect(errorOf(response as Parameters<typeof errorOf>[0])?.code).toBe('payload_too_large');
    const invite = await raw(
      owner,
      'POST',
      `/tenants/${tenantId}/members`,
      JSON.stringify({ email: `${'a'.repeat(MAX_BODY_BYTES)}@example.com`, role: 'viewer' }),
      'application/json',
    );
    expect(invite.status).toBe(413);
  });

  it('an invalid cursor is a 400 naming cursor', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const admin = await newActor(client, 'bad-platform', { groups: ['platform-admin'] });
    for (const cursor of [
      'garbage',
      '!!!',
      b64({ a: 1 }),
      b64([1, 2]),
      b64(['x']),
      b64(null),
      'x'.repeat(3000),
    ]) {
      const q = `cursor=${encodeURIComponent(cursor)}`;
      expectValidation(await owner.call('GET', `/tenants/${tenantId}/members?${q}`), 'cursor');
      expectValidation(await admin.call('GET', `/tenants?${q}`), 'cursor');
    }
    // Cursors of the right shape but with values SQL cannot take must not become 500s.
    expectValidation(
      await owner.call('GET', `/tenants/${tenantId}/members?cursor=${b64(['a\u0000', 'b'])}`),
      'cursor',
    );
    const odd = await admin.call('GET', `/tenants?cursor=${b64(['not a time', 't_aaaaaaaaaaaaaaaaaaaa'])}`);
    expectValidation(odd, 'cursor');
  });

  it('limit 0, 101, abc and the like are a 400 naming limit', async () => {
    const admin = await newActor(client, 'bad-limit', { groups: ['platform-admin'] });
    for (const limit of ['0', '101', 'abc', '-1', '1.5', '', '1e3', '1,2']) {
      expectValidation(
        await owner.call('GET', `/tenants/${tenantId}/members?limit=${encodeURIComponent(limit)}`),
        'limit',
      );
      expectValidation(await admin.call('GET', `/tenants?limit=${encodeURIComponent(limit)}`), 'limit');
    }
    expectValidation(await owner.call('GET', `/tenants/${tenantId}/members?limit=1&offset=5`), 'offset');
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/members?limit=100`), 200);
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/members?limit=1`), 200);
  });

  it('the status route: a malformed tenant id, an unknown status, a missing, empty or oversized reason, or extra fields are a 400', async () => {
    const admin = await newActor(client, 'bad-status', { groups: ['platform-admin'] });
    for (const bad of malformedTenantIds) {
      const response = await admin.call('PUT', `/tenants/${encodeURIComponent(bad)}/status`, {
        status: 'suspended',
        reason: 'x',
      });
      expect([400, 404], `${JSON.stringify(bad)}: ${response.status}`).toContain(response.status);
    }
    const path = `/tenants/${tenantId}/status`;
    expectValidation(await admin.call('PUT', path, { status: 'deleted', reason: 'x' }), 'status');
    expectValidation(await admin.call('PUT', path, { status: 'suspended' }), 'reason');
    expectValidation(await admin.call('PUT', path, { status: 'suspended', reason: ' ' }), 'reason');
    expectValidation(
      await admin.call('PUT', path, { status: 'suspended', reason: 'x'.repeat(501) }),
      'reason',
    );
    expect((await admin.call('PUT', path, { status: 'suspended', reason: 'x', note: 'y' })).status).toBe(400);
    expect((await admin.call('PUT', path)).status).toBe(400);
  });

  it('the plan and quota routes: a malformed tenant id, an unknown plan or limit name, a limit that is no non-negative integer, or extra fields are a 400 naming it, and the plan is unchanged', async () => {
    const admin = await newActor(client, 'bad-plan', { groups: ['platform-admin'] });
    for (const bad of malformedTenantIds) {
      const path = `/tenants/${encodeURIComponent(bad)}`;
      const put = await admin.call('PUT', `${path}/plan`, { plan: 'standard' });
      expect([400, 404], `${JSON.stringify(bad)}: ${put.status}`).toContain(put.status);
      const get = await owner.call('GET', `${path}/quotas`);
      expect([400, 403, 404], `${JSON.stringify(bad)}: ${get.status}`).toContain(get.status);
    }
    const path = `/tenants/${tenantId}/plan`;
    const unknownPlan = await admin.call('PUT', path, { plan: 'platinum' });
    expectValidation(unknownPlan, 'plan');
    expect(JSON.stringify(unknownPlan.body)).toContain('platinum');
    const unknownLimit = await admin.call('PUT', path, { plan: 'free', overrides: { seats: 1 } });
    expectValidation(unknownLimit, 'overrides.seats');
    expect(JSON.stringify(unknownLimit.body)).toContain('seats');
    for (const value of [-1, 1.5, '3', true, [], {}, 2 ** 60, Number.MAX_SAFE_INTEGER + 2]) {
      expectValidation(
        await admin.call('PUT', path, { plan: 'free', overrides: { databases: value } }),
        'overrides.databases',
      );
    }
    for (const plan of ['', 'Free', 'free plan', 'x'.repeat(40), 7, null, '__proto__']) {
      expectValidation(await admin.call('PUT', path, { plan }), 'plan');
    }
    expectValidation(await admin.call('PUT', path, { plan: 'free', overrides: [] }), 'overrides');
    expect((await admin.call('PUT', path, { plan: 'free', note: 'x' })).status).toBe(400);
    expect((await admin.call('PUT', path)).status).toBe(400);
    const quotas = expectStatus(await owner.call('GET', `/tenants/${tenantId}/quotas`), 200).body as {
      plan: string;
    };
    expect(quotas.plan).toBe((before.tenant as { plan: string }).plan);
  });

  it('a malformed plan on POST /tenants is a 400 naming it, for a platform admin too, and registers nothing', async () => {
    const admin = await newActor(client, 'bad-plan', { groups: ['platform-admin'] });
    const name = `Bad plan ${randomUUID().slice(0, 8)}`;
    for (const plan of ['', 'Premium', 'x'.repeat(33), '1plan', 7, null, ['free'], {}]) {
      expectValidation(await admin.call('POST', '/tenants', { name, plan }), 'plan');
    }
    const listed = await withPg(info, 'control', async (pg) =>
      Number((await pg.query('select count(*)::int as n from tenants where name = $1', [name])).rows[0].n),
    );
    expect(listed).toBe(0);
  });

  it('the hierarchy: a malformed parent, a depth other than 1 or all, a non-boolean inherited or inheritAccess, or extra fields are a 400 naming them, and nothing moves', async () => {
    const admin = await newActor(client, 'bad-tree', { groups: ['platform-admin'] });
    for (const parentId of ['', 'nope', 't_short', 7, true, ['t_aaaaaaaaaaaaaaaaaaaa'], {}]) {
      expectValidation(await owner.call('POST', '/tenants', { name: 'Bad child', parentId }), 'parentId');
      expectValidation(await admin.call('PUT', `/tenants/${tenantId}/parent`, { parentId }), 'parentId');
    }
    expectValidation(await admin.call('PUT', `/tenants/${tenantId}/parent`, {}), 'parentId');
    expect((await admin.call('PUT', `/tenants/${tenantId}/parent`)).status).toBe(400);
    expect(
      (await admin.call('PUT', `/tenants/${tenantId}/parent`, { parentId: null, path: ['x'] })).status,
    ).toBe(400);
    for (const bad of malformedTenantIds) {
      const response = await admin.call('PUT', `/tenants/${encodeURIComponent(bad)}/parent`, {
        parentId: null,
      });
      expect([400, 404], `${JSON.stringify(bad)}: ${response.status}`).toContain(response.status);
    }
    for (const depth of ['0', '2', 'ALL', '', '1.0']) {
      expectValidation(await owner.call('GET', `/tenants/${tenantId}/children?depth=${depth}`), 'depth');
    }
    for (const inherited of ['yes', '1', 'TRUE', '']) {
      expectValidation(
        await owner.call('GET', `/tenants/${tenantId}/members?inherited=${inherited}`),
        'inherited',
      );
    }
    for (const inheritAccess of ['false', 0, null, 'no']) {
      expectValidation(await owner.call('PATCH', `/tenants/${tenantId}`, { inheritAccess }), 'inheritAccess');
    }
    // The parent is set by PUT …/parent only, never by a settings update.
    expect((await owner.call('PATCH', `/tenants/${tenantId}`, { parentId: null })).status).toBe(400);
  });

  it('a malformed Idempotency-Key is a 400 naming the header on every idempotent route (generated from the route table), and nothing is written', async () => {
    // Staff in both platform groups: platform routes let them in, and a platform admin acts as a
    // tenant admin on any tenant, so every route reaches its key check with a valid body.
    const staff = await newActor(client, 'bad-key', { groups: ['platform-admin', 'finance'] });
    const databases = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { id: string }[];
    };
    const databaseId = databases.items[0]?.id ?? '';
    const base = `/tenants/${tenantId}/databases/${databaseId}`;
    expectStatus(
      await owner.call('POST', `${base}/tables`, { name: 'keyed', columns: [{ name: 'v', type: 'text' }] }),
      201,
    );
    const values: Record<string, string> = {
      tenantId,
      databaseId,
      table: 'keyed',
      moduleId: 'billing',
      month: '1990-08',
      backupId: 'b_aaaaaaaaaaaaaaaa',
    };
    const bodies: Record<string, unknown> = {
      registerTenant: { name: 'Never registered' },
      inviteMember: { email: 'never-invited@example.com', role: 'viewer' },
      createRole: { name: 'Never made', permissions: { audit: ['read'] } },
      createDatabase: { label: 'nevermade' },
      createTable: { name: 'never_made', columns: [{ name: 'v', type: 'text' }] },
      insertRow: { v: 'never inserted' },
      insertRows: { rows: [{ v: 'never inserted' }, { v: 'nor this' }] },
      importRows: '{"v":"never imported"}\n',
      enableModule: { moduleId: 'billing', databaseId },
      startModuleUpgrade: {},
      closeUsageMonth: undefined,
      restoreBackup: { databaseId },
      createBackup: {},
      cloneTenant: { name: 'Never cloned', include: [] },
      moveDatabase: { clusterId: 'c2' },
    };
    const idempotent = routeList.filter((route) => route.idempotent);
    expect(idempotent.map((route) => route.operationId).sort()).toEqual(Object.keys(bodies).sort());
    const keys = [
      '',
      'has space',
      'x'.repeat(101),
      'clé',
      'a,b',
      'semi;colon',
      '../../etc',
      '%41',
      'tab\there',
    ];
    for (const route of idempotent) {
      const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name);
      for (const key of keys) {
        const body = bodies[route.operationId];
        const headers = { 'idempotency-key': key };
        // The import takes a file, not JSON.
        const response =
          typeof body === 'string'
            ? await sendText(
                info,
                staff,
                route.method,
                `${path}?format=ndjson`,
                body,
                'application/x-ndjson',
                headers,
              )
            : await client.call(route.method, path, { token: staff.token, body, headers });
        const where = `${route.operationId} with ${JSON.stringify(key)}: ${JSON.stringify(response.body)}`;
        expect(response.status, where).toBe(400);
        expect(detailPaths(response), where).toEqual(['idempotency-key']);
      }
    }
    // Nothing was written: no tenant, invitation, role, database, table, row, module or archive.
    expect(((await staff.call('GET', '/me')).body as { memberships: unknown[] }).memberships).toEqual([]);
    const invitations = expectStatus(await owner.call('GET', `/tenants/${tenantId}/invitations`), 200)
      .body as { items: { email: string }[] };
    expect(invitations.items.map((i) => i.email)).not.toContain('never-invited@example.com');
    const after = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: unknown[];
    };
    expect(after.items).toHaveLength(databases.items.length);
    expect((await owner.call('GET', `${base}/tables/never_made`)).status).toBe(404);
    const rows = expectStatus(await owner.call('GET', `${base}/tables/keyed/rows`), 200).body as {
      items: [];
    };
    expect(rows.items).toEqual([]);
    const modules = expectStatus(await owner.call('GET', `/tenants/${tenantId}/modules`), 200).body as {
      items: { id: string; enabled: boolean }[];
    };
    expect(modules.items.find((m) => m.id === 'billing')?.enabled).toBe(false);
    expect((await staff.call('GET', '/usage/exports/archive/1990-08')).status).toBe(404);
    const backups = expectStatus(await owner.call('GET', `/tenants/${tenantId}/backups`), 200).body as {
      items: unknown[];
    };
    expect(backups.items).toEqual([]);
  });

  it('backups: unknown fields, malformed, duplicate or too many database ids, a malformed backup id or cursor are a 400 naming the field, and start nothing', async () => {
    const backups = `/tenants/${tenantId}/backups`;
    const databaseId = (
      expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
        items: { id: string }[];
      }
    ).items[0]?.id as string;
    for (const [body, field] of [
      [{ everything: true }, 'everything'],
      [{ databaseIds: [] }, 'databaseIds'],
      [{ databaseIds: 'all' }, 'databaseIds'],
      [{ databaseIds: ['nope'] }, 'databaseIds.0'],
      [{ databaseIds: [databaseId, databaseId] }, 'databaseIds'],
      [
        { databaseIds: Array.from({ length: 101 }, (_, i) => `d_${'a'.repeat(15)}${'abcdefgh'[i % 8]}`) },
        'databaseIds',
      ],
      [{ databaseIds: [`${databaseId}' or '1'='1`] }, 'databaseIds.0'],
    ] as const) {
      const response = await owner.call('POST', backups, body);
      expect(response.status, `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(response.body)}`).toBe(
        400,
      );
      expect(detailPaths(response)).toContain(field);
    }
    for (const query of ['limit=0', 'limit=abc', 'cursor=%%%', 'cursor=bm9wZQ', 'unknown=1']) {
      const response = await owner.call('GET', `${backups}?${query}`);
      expect(response.status, `${query}: ${JSON.stringify(response.body)}`).toBe(400);
    }
    for (const id of malformedIds) {
      const response = await owner.call('GET', `${backups}/${encodeURIComponent(id)}`);
      expect(response.status, `${id}: ${JSON.stringify(response.body)}`).toBe(400);
    }
    const listed = expectStatus(await owner.call('GET', backups), 200).body as { items: unknown[] };
    expect(listed.items).toEqual([]);
  });

  it('closing a month: a malformed month is a 400, never a 500', async () => {
    const finance = await newActor(client, 'bad-close', { groups: ['finance'] });
    for (const month of ['2021-1', '2021-13', '2021-00', 'abcd-ef', '202101', '2021-01-01', "' or 1=1"]) {
      const response = await finance.call('POST', `/usage/exports/${encodeURIComponent(month)}/close`);
      expect(response.status, `${month}: ${JSON.stringify(response.body)}`).toBe(400);
    }
  });

  it('usage roll-ups: an include other than descendants, or a rollup other than tenant or root, is a 400 naming it', async () => {
    const finance = await newActor(client, 'bad-rollup', { groups: ['finance'] });
    for (const include of ['bogus', '', 'DESCENDANTS', 'children', 'descendants,descendants', "' or 1=1"]) {
      const response = await owner.call(
        'GET',
        `/tenants/${tenantId}/usage?include=${encodeURIComponent(include)}`,
      );
      expectValidation(response, 'include');
    }
    for (const rollup of ['bogus', '', 'ROOT', 'roots', 'root,tenant', 'parent']) {
      const response = await finance.call(
        'GET',
        `/usage/exports?month=2021-01&rollup=${encodeURIComponent(rollup)}`,
      );
      expectValidation(response, 'rollup');
    }
    // Well-formed, the same requests answer (the finance one to finance only).
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/usage?include=descendants`), 200);
    expectStatus(await finance.call('GET', '/usage/exports?month=2021-01&rollup=root&format=json'), 200);
    expect((await owner.call('GET', '/usage/exports?month=2021-01&rollup=root')).status).toBe(403);
  });

  it('the compliance report: a format other than json or html, or an unknown query, is a 400 naming it; a malformed tenant id a 4xx', async () => {
    for (const format of ['pdf', '', 'HTML', 'json,html', 'csv', "' or 1=1", '<script>']) {
      const response = await owner.call(
        'GET',
        `/tenants/${tenantId}/compliance?format=${encodeURIComponent(format)}`,
      );
      expectValidation(response, 'format');
    }
    expectValidation(await owner.call('GET', `/tenants/${tenantId}/compliance?since=2020-01-01`), 'since');
    for (const id of ['not-a-tenant', 't_UPPERCASEUPPERCASE12', "t_' or 1=1"]) {
      const response = await owner.call('GET', `/tenants/${encodeURIComponent(id)}/compliance`);
      expect(response.status, `${id}: ${JSON.stringify(response.body)}`).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    // Well-formed, the same route answers both formats.
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/compliance?format=json`), 200);
    const html = await owner.call('GET', `/tenants/${tenantId}/compliance?format=html`);
    expect(html.status).toBe(200);
    expect(String(html.body)).toMatch(/^<!doctype html>/);
  });

  it('platform analytics: malformed months, from after to, over 24 months, a future month or an unknown format are a 400 naming the field, and change nothing', async () => {
    const finance = await newActor(client, 'bad-analytics', { groups: ['finance'] });
    const answer = async () =>
      expectStatus(await finance.call('GET', '/platform/analytics?from=2016-01&to=2016-02'), 200).body;
    const earlier = await answer();
    const next = new Date();
    next.setUTCMonth(next.getUTCMonth() + 1, 1);
    const future = next.toISOString().slice(0, 7);
    const cases: [string, string][] = [
      ['from=2021-1&to=2021-02', 'from'],
      ['from=2021-13&to=2021-12', 'from'],
      ["from=2021-01' or 1=1&to=2021-02", 'from'],
      ['from=2021-01&to=2021-02-01', 'to'],
      ['from=2021-01', 'to'],
      ['to=2021-01', 'from'],
      ['from=2021-03&to=2021-02', 'from'],
      ['from=2019-01&to=2021-01', 'to'],
      [`from=2021-01&to=${future}`, 'to'],
      ['from=2021-01&to=2021-02&format=xml', 'format'],
      ['from=2021-01&to=2021-02&format=', 'format'],
      ['from=2021-01&to=2021-02&tenantId=t_aaaaaaaaaaaaaaaaaaaa', 'tenantId'],
    ];
    for (const [query, field] of cases) {
      const response = await finance.call(
        'GET',
        `/platform/analytics?${query.replace(/'/g, '%27').replace(/ /g, '%20')}`,
      );
      expectValidation(response, field);
    }
    // The longest range allowed answers, and the answers are as they were.
    expectStatus(await finance.call('GET', '/platform/analytics?from=2019-02&to=2021-01'), 200);
    expect(await answer()).toEqual(earlier);
  });

  it('tenant data over the size limits: a row over the row cap is a 400 row_too_large, too many columns or an unusable default a 400 naming them, and nothing is written', async () => {
    const databases = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { id: string }[];
    };
    const base = `/tenants/${tenantId}/databases/${databases.items[0]?.id}`;
    expectStatus(
      await owner.call('POST', `${base}/tables`, { name: 'limits', columns: [{ name: 'v', type: 'text' }] }),
      201,
    );
    // Under the 100 000-character value limit and the 256 KiB body limit, over the row cap.
    const tooLarge = await owner.call('POST', `${base}/tables/limits/rows`, { v: 'x'.repeat(MAX_ROW_BYTES) });
    expect(tooLarge.status).toBe(400);
    expect(errorOf(tooLarge)).toMatchObject({ code: 'row_too_large', limitBytes: MAX_ROW_BYTES });
    expect(JSON.stringify(tooLarge.body)).not.toMatch(/division|SQLState|insert into/i);
    const rows = expectStatus(await owner.call('GET', `${base}/tables/limits/rows`), 200).body as {
      items: [];
    };
    expect(rows.items).toEqual([]);

    const wide = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => ({ name: `c${i}`, type: 'text' }));
    expectValidation(
      await owner.call('POST', `${base}/tables`, { name: 'too_wide', columns: wide }),
      'columns',
    );
    expectValidation(
      await owner.call('PATCH', `${base}/tables/limits`, { addColumns: wide.slice(0, MAX_COLUMNS) }),
      'addColumns',
    );
    expectValidation(
      await owner.call('POST', `${base}/tables`, {
        name: 'unusable_default',
        columns: [{ name: 'v', type: 'text', default: 'd'.repeat(MAX_ROW_BYTES) }],
      }),
      'columns.0.default',
    );
    for (const table of ['too_wide', 'unusable_default']) {
      expect((await owner.call('GET', `${base}/tables/${table}`)).status, table).toBe(404);
    }
    const limits = expectStatus(await owner.call('GET', `${base}/tables/limits`), 200).body as {
      columns: { name: string }[];
    };
    expect(limits.columns.map((c) => c.name)).toEqual(['id', 'created_at', 'updated_at', 'v']);
  });

  it('malformed bodies of the batch and import routes are a clear 4xx, never a 500, and write nothing', async () => {
    const databases = expectStatus(await owner.call('GET', `/tenants/${tenantId}/databases`), 200).body as {
      items: { id: string }[];
    };
    const databaseId = databases.items[0]?.id as string;
    const rows = `/tenants/${tenantId}/databases/${databaseId}/tables/bulk_input/rows`;
    expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/databases/${databaseId}/tables`, {
        name: 'bulk_input',
        columns: [
          { name: 'v', type: 'text' },
          { name: 'n', type: 'integer' },
          { name: 'doc', type: 'jsonb' },
        ],
      }),
      201,
    );
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const batchBodies: [string, string][] = [
      ['', 'application/json'],
      ['{}', 'application/json'],
      ['[]', 'application/json'],
      ['null', 'application/json'],
      ['"rows"', 'application/json'],
      ['{"rows": "x"}', 'application/json'],
      ['{"rows": null}', 'application/json'],
      ['{"rows": [1, 2]}', 'application/json'],
      ['{"rows": [[]]}', 'application/json'],
      ['{"rows": [{}], "extra": 1}', 'application/json'],
      ['{"rows": [{"v": "a\\u0000b"}]}', 'application/json'],
      ['{"rows": [{"__proto__": {"v": "x"}}]}', 'application/json'],
      ['{"rows": [{"": 1}]}', 'application/json'],
      ['{"rows": [{"n": 1e400}]}', 'application/json'],
      ['{"rows": [{"n": 99999999999}, {"v": 1}]}', 'application/json'],
      [`{"rows": [{"doc": ${deep}}]}`, 'application/json'],
      ['{"rows": [', 'application/json'],
      ['v\r\nx\r\n', 'text/csv'],
    ];
    for (const [body, type] of batchBodies) {
      const response = await raw(owner, 'POST', `${rows}/batch`, body, type);
      expect(
        response.status,
        `${body.slice(0, 60)}: ${JSON.stringify(response.body)}`,
      ).toBeGreaterThanOrEqual(400);
      expect(response.status, `${body.slice(0, 60)}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
    expectValidation(
      await raw(owner, 'POST', `${rows}/batch`, '{"rows": [1]}', 'application/json'),
      'rows.0',
    );
    expect((await raw(owner, 'POST', `${rows}/batch`, 'v\r\nx\r\n', 'text/csv')).status).toBe(415);

    const files: [string, string, string][] = [
      ['csv', '', 'text/csv'],
      ['csv', 'v\r\n', 'text/csv'],
      ['csv', ',\r\n1\r\n', 'text/csv'],
      ['csv', 'v,v\r\nx,y\r\n', 'text/csv'],
      ['csv', 'v\r\n"open\r\n', 'text/csv'],
      ['csv', 'v\r\n"a"b\r\n', 'text/csv'],
      ['csv', 'v\r\na\u0000b\r\n', 'text/csv'],
      ['csv', `doc\r\n"${deep}"\r\n`, 'text/csv'],
      ['csv', 'doc\r\n{not json\r\n', 'text/csv'],
      ['csv', 'n\r\n1.5\r\n', 'text/csv'],
      ['csv', 'n\r\n99999999999\r\n', 'text/csv'],
      ['csv', '{"v": "x"}', 'application/json'],
      ['csv', 'v\r\nx\r\n', 'text/plain'],
      ['csv', 'v\r\nx\r\n', 'application/x-ndjson'],
      ['ndjson', 'null\n', 'application/x-ndjson'],
      ['ndjson', '"x"\n', 'application/x-ndjson'],
      ['ndjson', `${deep}\n`, 'application/x-ndjson'],
      ['ndjson', `{"doc": ${deep}}\n`, 'application/x-ndjson'],
      ['ndjson', '{"v": 1}\n', 'application/x-ndjson'],
      ['ndjson', '{"id": 1, "nope": 2}\n', 'application/x-ndjson'],
      ['ndjson', '\n\n', 'application/x-ndjson'],
      ['xml', '<v/>', 'application/xml'],
    ];
    for (const [format, body, type] of files) {
      const response = await raw(owner, 'POST', `${rows}/import?format=${format}`, body, type);
      const label = `${format} ${JSON.stringify(body.slice(0, 40))} as ${type}: ${JSON.stringify(response.body)}`;
      expect(response.status, label).toBeGreaterThanOrEqual(400);
      expect(response.status, label).toBeLessThan(500);
    }
    expectValidation(await raw(owner, 'POST', `${rows}/import`, 'v\r\nx\r\n', 'text/csv'), 'format');
    for (const query of [
      'format=csv&cursor=x',
      'format=xlsx',
      'sort=nope',
      'sort=v;drop',
      'cursor=garbage',
    ]) {
      const response = await owner.call('GET', `${rows}/export?${query}`);
      expect(response.status, `${query}: ${JSON.stringify(response.body)}`).toBe(400);
    }
    const stored = expectStatus(await owner.call('GET', rows), 200).body as { items: unknown[] };
    expect(stored.items).toEqual([]);
  });

  it('DELETE /tenants/{id} with a cascade that is not true or false, or an unknown query, is a 400 naming it', async () => {
    for (const [query, field] of [
      ['cascade=yes', 'cascade'],
      ['cascade=1', 'cascade'],
      ['cascade=TRUE', 'cascade'],
      ['cascade=', 'cascade'],
      ['cascade=true&cascade=false', 'cascade'],
      ['cascde=true', 'cascde'],
    ] as const) {
      const response = await owner.call('DELETE', `/tenants/${tenantId}?${query}`);
      expectValidation(response, field);
    }
    // The tenant is untouched: the snapshot below compares it whole.
    expect((await owner.call('GET', `/tenants/${tenantId}`)).body).toMatchObject({ status: 'active' });
  });

  it('the cluster routes: a malformed cluster id, state, capacity or pin is a 4xx naming the field, changing nothing', async () => {
    const admin = await newActor(client, 'bad-clusters-admin', { groups: ['platform-admin'] });
    // Its state and capacity (its counts move with the other files' tenants).
    const primaryOf = async () => {
      const { items } = expectStatus(await admin.call('GET', '/clusters'), 200).body as {
        items: { id: string; state: string; capacity: number }[];
      };
      const primary = items.find((c) => c.id === 'primary');
      return { state: primary?.state, capacity: primary?.capacity };
    };
    const primaryBefore = await primaryOf();
    for (const bad of malformedIds) {
      const response = await admin.call('PATCH', `/clusters/${encodeURIComponent(bad)}`, { state: 'closed' });
      expect([400, 404], `clusterId ${JSON.stringify(bad)}: ${response.status}`).toContain(response.status);
    }
    for (const [body, field] of [
      [{ state: 'gone' }, 'state'],
      [{ state: 'closed', capacity: -3 }, 'capacity'],
      [{ state: 'closed', capacity: '10' }, 'capacity'],
      [{ state: 'closed', capacity: 100_001 }, 'capacity'],
      [{ state: 'closed', region: 'x' }, 'region'],
    ] as const) {
      expectValidation(await admin.call('PATCH', '/clusters/primary', body), field);
    }
    expectValidation(await admin.call('PATCH', '/clusters/primary', {}));
    for (const [body, field] of [
      [{ clusterId: 'Bad Id' }, 'clusterId'],
      [{ clusterId: 7 }, 'clusterId'],
      [{}, 'clusterId'],
      [{ clusterId: null, extra: true }, 'extra'],
    ] as const) {
      expectValidation(await admin.call('PUT', `/tenants/${tenantId}/placement`, body), field);
    }
    // Not the cluster's, and not the tenant's: the snapshot below compares the tenant whole.
    expect(await primaryOf()).toEqual(primaryBefore);
    expect((await owner.call('PUT', `/tenants/${tenantId}/placement`, { clusterId: null })).status).toBe(403);
  });

  it('the move routes: a malformed database id, cluster id or isolation is a 4xx naming the field, moving nothing', async () => {
    const admin = await newActor(client, 'bad-moves-admin', { groups: ['platform-admin'] });
    const provisioning = expectStatus(await owner.call('GET', `/tenants/${tenantId}/provisioning`), 200)
      .body as {
      databases: { id: string }[];
    };
    const databaseId = provisioning.databases[0]?.id ?? '';
    for (const bad of malformedIds) {
      const response = await admin.call(
        'POST',
        `/tenants/${tenantId}/databases/${encodeURIComponent(bad)}/move`,
        { clusterId: 'c2' },
      );
      expect([400, 404], `databaseId ${JSON.stringify(bad)}: ${response.status}`).toContain(response.status);
    }
    for (const [body, field] of [
      [{ clusterId: 'Bad Id' }, 'clusterId'],
      [{ clusterId: 7 }, 'clusterId'],
      [{}, 'clusterId'],
      [{ clusterId: 'c2', isolation: 'pool' }, 'isolation'],
    ] as const) {
      expectValidation(
        await admin.call('POST', `/tenants/${tenantId}/databases/${databaseId}/move`, body),
        field,
      );
    }
    for (const [body, field] of [
      [{ isolation: 'shared' }, 'isolation'],
      [{ isolation: null }, 'isolation'],
      [{}, 'isolation'],
      [{ isolation: 'pool', clusterId: 'c2' }, 'clusterId'],
    ] as const) {
      expectValidation(await admin.call('PUT', `/tenants/${tenantId}/isolation`, body), field);
    }
    // An unknown cluster is a 404, the tenant's own isolation a 409; a tenant's owner may not move it.
    expect(
      (await admin.call('POST', `/tenants/${tenantId}/databases/${databaseId}/move`, { clusterId: 'nosuch' }))
        .status,
    ).toBe(404);
    const same = await admin.call('PUT', `/tenants/${tenantId}/isolation`, { isolation: 'silo' });
    expect(same.status).toBe(409);
    expect(errorOf(same)).toMatchObject({ code: 'conflict', reason: 'already_there' });
    expect((await owner.call('PUT', `/tenants/${tenantId}/isolation`, { isolation: 'pool' })).status).toBe(
      403,
    );
    expect(
      (await owner.call('POST', `/tenants/${tenantId}/databases/${databaseId}/move`, { clusterId: 'c2' }))
        .status,
    ).toBe(403);
    // No move was recorded: the provisioning status shows none.
    const after = expectStatus(await owner.call('GET', `/tenants/${tenantId}/provisioning`), 200).body;
    expect(after).toMatchObject({ move: null });
  });

  it('the audit export and the offboarding certificate: a bad range, timestamp, format, limit or cursor, or a malformed tenant id, is a 400 naming it', async () => {
    const exportOf = (query: string) => owner.call('GET', `/tenants/${tenantId}/audit/export?${query}`);
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const [query, path] of [
      ['from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z', 'from'],
      ['from=2999-01-01T00:00:00Z', 'from'],
      ['from=tomorrow', 'from'],
      ['to=2026-02-30T00:00:00Z', 'to'],
      ['to=2026-06-01', 'to'],
      ['format=xml', 'format'],
      ['format=', 'format'],
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['limit=10001', 'limit'],
      ['cursor=garbage', 'cursor'],
      [`cursor=${b64(['auditExport', 'x', 'y', 'z'])}`, 'cursor'],
      [`cursor=${'x'.repeat(3000)}`, 'cursor'],
      ['userId=someone', 'userId'],
    ] as const) {
      expectValidation(await exportOf(query), path);
    }
    expectStatus(await exportOf('format=csv&limit=1'), 200);
    expect((await member.call('GET', `/tenants/${tenantId}/audit/export`)).status).toBe(403);
    for (const bad of malformedTenantIds) {
      const response = await owner.call('GET', `/tenants/${encodeURIComponent(bad)}/offboarding-certificate`);
      expect(response.status, `${bad}: ${JSON.stringify(response.body)}`).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    expectStatus(await owner.call('GET', `/tenants/${tenantId}/offboarding-certificate?x=1`), 400);
  });

  it('nothing was written by any of the rejected requests', async () => {
    const after = await snapshot();
    expect(after).toEqual(before);
  });
});
