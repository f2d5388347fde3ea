import { randomUUID } from 'node:crypto';
import type {
  PostConfirmationTriggerEvent,
  PreTokenGenerationTriggerEvent,
  PreTokenGenerationV2TriggerEvent,
} from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { handler as postConfirmationHandler } from '#functions/identity/post-confirmation';
import { handler as preTokenGenerationHandler } from '#functions/identity/pre-token-generation';
import { servicesFrom } from '#shared/composition/services';
import { newTenantId } from '#shared/control/ids';
import { MembershipRepository } from '#shared/control/membership-repository';
import { TenantRepository } from '#shared/control/tenant-repository';
import { UserRepository } from '#shared/control/user-repository';
import { TENANT_CLAIMS } from '#shared/domain/caller';
import { recordSignInWithin } from '#shared/identity/pre-token';
import type { WorkflowStarter } from '#shared/ports/workflows';
import { createControlDatabase, databaseExists, type TempDatabase } from '../support/tenancy.ts';

/**
 * The Cognito triggers, called as Cognito calls them, on a real control database (a temp
 * database on the booted platform's PostgreSQL, migrated, dropped afterwards) and a workflow
 * starter that only records what it is asked to start.
 */

const info = inject('platform');
let db: TempDatabase;
let users: UserRepository;
let tenants: TenantRepository;
let members: MembershipRepository;
let postConfirmation: ReturnType<typeof postConfirmationHandler.with>;
let preTokenGeneration: ReturnType<typeof preTokenGenerationHandler.with>;
const starts: { name: string; input: Record<string, unknown> }[] = [];
let failStarts = false;

const workflows: WorkflowStarter = {
  start: async (name, input) => {
    if (failStarts) throw new Error('Step Functions is down');
    starts.push({ name, input });
    return { executionId: `arn:aws:states:us-east-1:000000000000:execution:provisioning:${name}` };
  },
  describe: async () => null,
};

const unused = (what: string) => () => {
  throw new Error(`${what} is not used by the identity triggers`);
};

beforeAll(async () => {
  db = await createControlDatabase(info, 'triggers');
  users = new UserRepository(db.runner);
  tenants = new TenantRepository(db.runner);
  members = new MembershipRepository(db.runner);
  const services = servicesFrom({
    settings: () => ({ stage: 'test', controlDatabase: db.name }),
    control: () => db.runner,
    masterControl: unused('the master'),
    identity: unused('identity'),
    events: unused('events'),
    workflows: () => workflows,
    clusters: unused('clusters'),
    secrets: unused('secrets'),
  });
  // The triggers on the test's own services, as the local platform runs them on its own.
  postConfirmation = postConfirmationHandler.with(services);
  preTokenGeneration = preTokenGenerationHandler.with(services);
});

afterAll(async () => {
  await db.drop();
  expect(await databaseExists(info, db.name)).toBe(false);
});

beforeEach(() => {
  starts.length = 0;
  failStarts = false;
});

const newUser = () => {
  const id = randomUUID();
  return { sub: id, email: `trigger-${id.slice(0, 8)}@example.com` };
};

async function tenantOwnedBy(user: { sub: string; email: string }, name: string) {
  const tenantId = newTenantId();
  await tenants.create({
    tenantId,
    name,
    settings: {},
    owner: { userId: user.sub, email: user.email },
    status: 'active',
  });
  return tenantId;
}

/** A V1 event exactly as cognito-local builds it (AWS's V1 differs only in `version: '1'`). */
function v1Event(userAttributes: Record<string, string>, version = '0'): PreTokenGenerationTriggerEvent {
  return {
    version,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client-id' },
    region: 'us-east-1',
    userPoolId: 'local_pool',
    triggerSource: 'TokenGeneration_Authentication',
    userName: userAttributes.email ?? 'someone',
    request: { userAttributes, groupConfiguration: {} as never, clientMetadata: {} },
    response: { claimsOverrideDetails: {} as never },
  } as PreTokenGenerationTriggerEvent;
}

/** A V2 event as AWS sends it when the pool's trigger is configured with version V2_0. */
function v2Event(userAttributes: Record<string, string>): PreTokenGenerationV2TriggerEvent {
  return {
    version: '2',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client-id' },
    region: 'eu-west-1',
    userPoolId: 'eu-west-1_abc',
    triggerSource: 'TokenGeneration_Authentication',
    userName: userAttributes.email ?? 'someone',
    request: {
      userAttributes,
      groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: undefined },
      scopes: ['openid', 'email'],
    },
    response: {
      claimsAndScopeOverrideDetails: null as never,
    },
  } as unknown as PreTokenGenerationV2TriggerEvent;
}

function postConfirmationEvent(
  userAttributes: Record<string, string>,
  triggerSource: PostConfirmationTriggerEvent['triggerSource'] = 'PostConfirmation_ConfirmSignUp',
): PostConfirmationTriggerEvent {
  return {
    version: '1',
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client-id' },
    region: 'us-east-1',
    userPoolId: 'local_pool',
    triggerSource,
    userName: userAttributes.email ?? 'someone',
    request: {
      userAttributes: { 'cognito:user_status': 'CONFIRMED', email_verified: 'true', ...userAttributes },
    },
    response: {},
  } as PostConfirmationTriggerEvent;
}

describe('pre-token-generation', () => {
  it('V1 (as cognito-local sends it): the tenant claims go to claimsOverrideDetails', async () => {
    const user = newUser();
    const tenantId = await tenantOwnedBy(user, 'V1 Corp');
    for (const version of ['0', '1']) {
      const result = await preTokenGeneration(v1Event({ ...user, email_verified: 'true' }, version));
      expect(result.response).toEqual({
        claimsOverrideDetails: {
          claimsToAddOrOverride: { [TENANT_CLAIMS.tenantId]: tenantId, [TENANT_CLAIMS.role]: 'owner' },
        },
      });
    }
    expect(TENANT_CLAIMS).toEqual({ tenantId: 'tenantry:tenant_id', role: 'tenantry:role' });
  });

  it('V2: the tenant claims go to the ID token in claimsAndScopeOverrideDetails, and only there', async () => {
    const user = newUser();
    const tenantId = await tenantOwnedBy(user, 'V2 Corp');
    const result = await preTokenGeneration(v2Event(user));
    expect(result.response).toEqual({
      claimsAndScopeOverrideDetails: {
        idTokenGeneration: {
          claimsToAddOrOverride: { 'tenantry:tenant_id': tenantId, 'tenantry:role': 'owner' },
        },
      },
    });
    expect(result.response).not.toHaveProperty('claimsOverrideDetails');
  });

  it('no membership: no tenant claims, in both formats', async () => {
    const user = newUser();
    await users.upsert(user.sub, user.email);
    const v1 = await preTokenGeneration(v1Event(user));
    expect(v1.response.claimsOverrideDetails?.claimsToAddOrOverride ?? {}).toEqual({});
    const v2 = await preTokenGeneration(v2Event(user));
    expect(v2.response.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride ?? {}).toEqual(
      {},
    );
    const unknown = await preTokenGeneration(v1Event({ sub: randomUUID(), email: 'ghost@example.com' }));
    expect(unknown.response.claimsOverrideDetails?.claimsToAddOrOverride ?? {}).toEqual({});
  });

  it('the chosen active tenant and the role in it; the oldest membership when none is chosen', async () => {
    const owner = newUser();
    const user = newUser();
    const first = await tenantOwnedBy(user, 'First');
    const other = await tenantOwnedBy(owner, 'Other');
    await members.add(other, { userId: user.sub, email: user.email }, 'viewer');
    const claims = async () =>
      (await preTokenGeneration(v1Event(user))).response.claimsOverrideDetails?.claimsToAddOrOverride;

    expect(await claims()).toEqual({ 'tenantry:tenant_id': first, 'tenantry:role': 'owner' });
    expect(await users.setActiveTenant(user.sub, other)).toBe(true);
    expect(await claims()).toEqual({ 'tenantry:tenant_id': other, 'tenantry:role': 'viewer' });
    await members.change(other, user.sub, null);
    expect(await claims()).toEqual({ 'tenantry:tenant_id': first, 'tenantry:role': 'owner' });
    expect(await tenants.transition(first, ['active'], 'deleted')).toBe(true);
    expect((await claims()) ?? {}).toEqual({});
  });
  it('records the sign-in time (compliance lastSignInAt); a token refresh and an unknown user change nothing', async () => {
    // Arrange
    const user = newUser();
    await tenantOwnedBy(user, 'Signed In');
    const lastSignIn = async () =>
      (
        await db.runner.query<{ at: string | null }>(
          'select last_sign_in_at as "at" from users where id = :id',
          { id: user.sub },
        )
      )[0]?.at ?? null;
    expect(await lastSignIn()).toBeNull();
    // Act: a sign-in
    const before = Date.now();
    await preTokenGeneration(v1Event(user));
    // Assert
    const first = await lastSignIn();
    expect(first).not.toBeNull();
    expect(Date.parse(first as string)).toBeGreaterThanOrEqual(before - 1_000);
    // A refresh is not a sign-in: the time stays.
    await db.runner.execute(`update users set last_sign_in_at = '2020-01-01T00:00:00Z' where id = :id`, {
      id: user.sub,
    });
    await preTokenGeneration({ ...v1Event(user), triggerSource: 'TokenGeneration_RefreshTokens' });
    expect(new Date(String(await lastSignIn())).toISOString()).toBe('2020-01-01T00:00:00.000Z');
    await preTokenGeneration(v2Event(user));
    expect(Date.parse(String(await lastSignIn()))).toBeGreaterThanOrEqual(before - 1_000);
  });

  it('a sign-in whose recording fails or is late still gets its token (recordSignInWithin answers false)', async () => {
    const failing = { recordSignIn: async () => Promise.reject(new Error('control db down')) };
    await expect(recordSignInWithin(failing, 'u1', new Date(), 1_000)).resolves.toBe(false);
    const slow = { recordSignIn: () => new Promise<void>((resolve) => setTimeout(resolve, 500)) };
    await expect(recordSignInWithin(slow, 'u1', new Date(), 20)).resolves.toBe(false);
    const fine = { recordSignIn: async () => {} };
    await expect(recordSignInWithin(fine, 'u1', new Date(), 1_000)).resolves.toBe(true);
  });
});

describe('post-confirmation', () => {
  it('records the confirmed user and starts nothing', async () => {
    const user = newUser();
    const event = postConfirmationEvent(user);
    await expect(postConfirmation(event)).resolves.toBe(event);
    expect(await users.findByEmail(user.email)).toEqual({ userId: user.sub, email: user.email });
    expect(await members.ofUser(user.sub)).toEqual([]);
    expect(starts).toEqual([]);
  });

  it('with custom:tenant_name registers that tenant with the user as owner and starts provision-<tenantId>', async () => {
    const user = newUser();
    await postConfirmation(postConfirmationEvent({ ...user, 'custom:tenant_name': '  Acme Robotics  ' }));
    const memberships = await members.ofUser(user.sub);
    expect(memberships).toEqual([
      {
        tenantId: expect.stringMatching(/^t_[a-z2-7]{20}$/),
        tenantName: 'Acme Robotics',
        tenantStatus: 'provisioning',
        role: 'owner',
      },
    ]);
    const tenantId = memberships[0]?.tenantId as string;
    expect(starts).toEqual([{ name: `provision-${tenantId}`, input: expect.objectContaining({ tenantId }) }]);
    expect((await tenants.get(tenantId))?.createdBy).toBe(user.sub);
    expect(await users.activeTenantOf(user.sub)).toEqual({ tenantId, role: 'owner' });
  });

  it('a retried trigger (Cognito retries after a timeout) registers no second tenant', async () => {
    const user = newUser();
    const event = postConfirmationEvent({ ...user, 'custom:tenant_name': 'Retried Corp' });

    await postConfirmation(event);
    await postConfirmation(event);

    expect(await members.ofUser(user.sub)).toHaveLength(1);
    expect(starts).toHaveLength(1);
  });

  it('a tenant name that is not valid registers no tenant (the user is still recorded)', async () => {
    for (const name of ['', '   ', 'x'.repeat(121), 'nul\u0000byte']) {
      const user = newUser();
      await postConfirmation(postConfirmationEvent({ ...user, 'custom:tenant_name': name }));
      expect(await users.findByEmail(user.email)).not.toBeNull();
      expect(await members.ofUser(user.sub)).toEqual([]);
    }
    expect(starts).toEqual([]);
  });

  it('a workflow that cannot start leaves the tenant failed, not provisioning forever, and fails the trigger', async () => {
    failStarts = true;
    const user = newUser();
    await expect(
      postConfirmation(postConfirmationEvent({ ...user, 'custom:tenant_name': 'Unlucky' })),
    ).rejects.toThrow('Step Functions is down');
    const [membership] = await members.ofUser(user.sub);
    expect(membership).toMatchObject({ tenantName: 'Unlucky', tenantStatus: 'failed', role: 'owner' });
  });

  it('PostConfirmation_ConfirmForgotPassword does nothing', async () => {
    const user = newUser();
    const event = postConfirmationEvent(
      { ...user, 'custom:tenant_name': 'Should Not Exist' },
      'PostConfirmation_ConfirmForgotPassword',
    );
    await expect(postConfirmation(event)).resolves.toBe(event);
    expect(await users.findByEmail(user.email)).toBeNull();
    expect(await members.ofUser(user.sub)).toEqual([]);
    expect(starts).toEqual([]);
  });
});
