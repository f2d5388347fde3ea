import { randomUUID } from 'node:crypto';
import { LocalClient } from '#infra/local/client';
import type { PlatformInfo } from '#infra/local/platform-info';
import { POOLED_TEST_PLAN } from './platform-process.ts';

export const PASSWORD = 'Correct-Horse-42!';

export interface Actor {
  readonly email: string;
  readonly userId: string;
  token: string;
  call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; headers: Headers }>;
  /** Logs in again (after a group change, or for fresh tenant claims). */
  refresh(): Promise<void>;
}

/** A new signed-up, logged-in user with a unique email. */
export async function newActor(
  client: LocalClient,
  label: string,
  options: { groups?: ('platform-admin' | 'finance')[]; attributes?: Record<string, string> } = {},
): Promise<Actor> {
  const email = `${label}-${randomUUID().slice(0, 8)}@example.com`;
  const userId = await client.signUp(email, PASSWORD, options.attributes);
  for (const group of options.groups ?? []) await client.addToGroup(email, group);
  const actor: Actor = {
    email,
    userId,
    token: (await client.logIn(email, PASSWORD)).idToken,
    call: (method, path, body) => client.call(method, path, { token: actor.token, body }),
    refresh: async () => {
      actor.token = (await client.logIn(email, PASSWORD)).idToken;
    },
  };
  return actor;
}

export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * How a suite's tenants are made: `silo` (the default plan) or `pool`, registered by a platform
 * admin (`registrar`) on the pooled test plan, who makes `owner` an owner and leaves the tenant,
 * so that `owner` holds it exactly as if they had registered it.
 */
export interface TenantMaking {
  readonly isolation: 'silo' | 'pool';
  readonly registrar?: Actor;
}

export interface MadeTenant {
  readonly tenantId: string;
  readonly name: string;
  readonly tenant: { id: string; status: string; name: string };
}

/** Registers a tenant as `owner` with POST /tenants and waits until provisioning has finished. */
export async function newTenant(
  owner: Actor,
  name = `Tenant ${randomUUID().slice(0, 6)}`,
  settings: object = {},
  making: TenantMaking = { isolation: 'silo' },
): Promise<MadeTenant> {
  if (making.isolation === 'pool') return newPooledTenant(owner, name, settings, making.registrar);
  const created = await owner.call('POST', '/tenants', { name, ...settings });
  if (created.status !== 202)
    throw new Error(`POST /tenants answered ${created.status}: ${JSON.stringify(created.body)}`);
  const tenantId = (created.body as { id: string }).id;
  const tenant = await eventually(
    () => owner.call('GET', `/tenants/${tenantId}`),
    (response) => (response.body as { status?: string }).status !== 'provisioning',
  );
  return { tenantId, name, tenant: tenant.body as { id: string; status: string; name: string } };
}

async function newPooledTenant(
  owner: Actor,
  name: string,
  settings: object,
  registrar: Actor | undefined,
): Promise<MadeTenant> {
  if (!registrar) throw new Error('a pooled tenant needs a platform admin to register it');
  const made = await newTenant(registrar, name, { ...settings, plan: POOLED_TEST_PLAN });
  if (made.tenant.status !== 'active') throw new Error(`the pooled tenant is ${made.tenant.status}`);
  await addMember(registrar, made.tenantId, owner, 'owner');
  const left = await owner.call('DELETE', `/tenants/${made.tenantId}/members/${registrar.userId}`);
  if (left.status !== 204)
    throw new Error(`removing the registrar answered ${left.status}: ${JSON.stringify(left.body)}`);
  await owner.call('PUT', '/me/active-tenant', { tenantId: made.tenantId });
  const tenant = (await owner.call('GET', `/tenants/${made.tenantId}`)).body as {
    id: string;
    status: string;
    name: string;
  };
  return { tenantId: made.tenantId, name, tenant };
}

/**
 * Adds an existing user to a tenant with a built-in role: `owner` invites, the member accepts (an
 * invitation is pending until its invitee consents).
 */
export async function addMember(owner: Actor, tenantId: string, member: Actor, role: string): Promise<void> {
  const invitationId = await invite(owner, tenantId, member.email, role);
  const accepted = await member.call('POST', `/me/invitations/${invitationId}/accept`);
  if (accepted.status !== 200)
    throw new Error(`accept answered ${accepted.status}: ${JSON.stringify(accepted.body)}`);
}

/** Invites `email` to the tenant as `inviter`; the pending invitation's id. */
export async function invite(inviter: Actor, tenantId: string, email: string, role: string): Promise<string> {
  const response = await inviter.call('POST', `/tenants/${tenantId}/members`, { email, role });
  if (response.status !== 201)
    throw new Error(`invite answered ${response.status}: ${JSON.stringify(response.body)}`);
  return (response.body as { id: string }).id;
}

export function clientFor(info: PlatformInfo): LocalClient {
  return new LocalClient(info);
}
