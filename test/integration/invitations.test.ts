import { randomUUID } from 'node:crypto';
import {
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
  InitiateAuthCommand,
  RespondToAuthChallengeCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { auditPartition } from '#shared/records/audit-store';
import {
  type Actor,
  addMember,
  eventually,
  invite,
  newActor,
  newTenant,
  PASSWORD,
} from '../support/actors.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';

/**
 * Invitations need consent: an invitation is pending, gives no access, and only the owner of the
 * verified email it was sent to can accept or decline it.
 */

const info = inject('platform');
const client = new LocalClient(info);
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const cognito = new CognitoIdentityProviderClient({ ...aws, endpoint: info.endpoints.cognito });
const dynamo = new DynamoDBClient({ ...aws, endpoint: info.endpoints.dynamodb });
afterAll(() => {
  client.close();
  cognito.destroy();
  dynamo.destroy();
});

interface MyInvitation {
  id: string;
  tenantId: string;
  tenantName: string;
  role: string;
  invitedBy: { userId: string; email: string | null };
  createdAt: string;
  expiresAt: string;
}

const myInvitations = async (actor: Actor) =>
  (expectStatus(await actor.call('GET', '/me/invitations?limit=100'), 200).body as { items: MyInvitation[] })
    .items;
const tenantInvitations = async (actor: Actor, tenantId: string) =>
  (
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/invitations?limit=100`), 200).body as {
      items: { id: string; email: string; role: string; status: string }[];
    }
  ).items;
const membershipsOf = async (actor: Actor) =>
  (expectStatus(await actor.call('GET', '/me'), 200).body as { memberships: { tenantId: string }[] })
    .memberships;

/** As a stranger: the tenant's routes answer 404 and nothing of it is listed. */
async function expectNoAccess(actor: Actor, tenantId: string) {
  for (const path of ['', '/members', '/invitations', '/databases']) {
    const response = await actor.call('GET', `/tenants/${tenantId}${path}`);
    expect(response.status, `GET /tenants/{id}${path}`).toBe(404);
  }
  expect((await membershipsOf(actor)).map((m) => m.tenantId)).not.toContain(tenantId);
}

/** Ages an invitation behind the API's back: expiry is compared with the database's clock. */
const expire = (invitationId: string) =>
  withPg(info, 'control', (pg) =>
    pg.query(
      `update invitations set created_at = now() - interval '8 days', expires_at = now() - interval '1 day' where id = $1`,
      [invitationId],
    ),
  );

describe('invitations', () => {
  let owner: Actor;
  let tenantId: string;
  let tenantName: string;

  beforeAll(async () => {
    owner = await newActor(client, 'inv-owner');
    ({ tenantId, name: tenantName } = await newTenant(owner));
  });

  it('an invitation is pending and gives no access; accepting makes the invitee a member with the role', async () => {
    const invitee = await newActor(client, 'inv-accept');
    const invited = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/members`, { email: invitee.email, role: 'admin' }),
      201,
    ).body as { id: string; status: string; role: string; createdAt: string; expiresAt: string };
    expect(invited).toMatchObject({ status: 'pending', role: 'admin', email: invitee.email });
    // The default time to live is 7 days.
    expect(Date.parse(invited.expiresAt) - Date.parse(invited.createdAt)).toBe(7 * 24 * 3600 * 1000);

    await expectNoAccess(invitee, tenantId);
    expect(await myInvitations(invitee)).toEqual([
      {
        id: invited.id,
        tenantId,
        tenantName,
        role: 'admin',
        invitedBy: { userId: owner.userId, email: owner.email },
        createdAt: invited.createdAt,
        expiresAt: invited.expiresAt,
      },
    ]);
    expect((await tenantInvitations(owner, tenantId)).map((i) => i.id)).toContain(invited.id);

    const accepted = expectStatus(await invitee.call('POST', `/me/invitations/${invited.id}/accept`), 200);
    expect(accepted.body).toMatchObject({ tenantId, tenantName, role: 'admin' });
    expectStatus(await invitee.call('GET', `/tenants/${tenantId}/members`), 200);
    expect((await membershipsOf(invitee)).map((m) => m.tenantId)).toContain(tenantId);
    expect(await myInvitations(invitee)).toEqual([]);
    expect((await tenantInvitations(owner, tenantId)).map((i) => i.id)).not.toContain(invited.id);
    // Accepting twice: it is no longer pending.
    expect((await invitee.call('POST', `/me/invitations/${invited.id}/accept`)).status).toBe(404);
    // Inviting a member again is a 409, not a second invitation.
    expect(
      (await owner.call('POST', `/tenants/${tenantId}/members`, { email: invitee.email, role: 'viewer' }))
        .status,
    ).toBe(409);
  });

  it('declining removes the invitation and gives no access', async () => {
    const invitee = await newActor(client, 'inv-decline');
    const id = await invite(owner, tenantId, invitee.email, 'member');
    expectStatus(await invitee.call('POST', `/me/invitations/${id}/decline`), 204);
    expect(await myInvitations(invitee)).toEqual([]);
    expect((await tenantInvitations(owner, tenantId)).map((i) => i.id)).not.toContain(id);
    expect((await invitee.call('POST', `/me/invitations/${id}/accept`)).status).toBe(404);
    await expectNoAccess(invitee, tenantId);
  });

  it('a revoked invitation cannot be accepted (404)', async () => {
    const invitee = await newActor(client, 'inv-revoked');
    const id = await invite(owner, tenantId, invitee.email, 'member');
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/invitations/${id}`), 204);
    expect((await owner.call('DELETE', `/tenants/${tenantId}/invitations/${id}`)).status).toBe(404);
    const response = await invitee.call('POST', `/me/invitations/${id}/accept`);
    expect(response.status).toBe(404);
    expect(errorOf(response)?.code).toBe('not_found');
    expect(await myInvitations(invitee)).toEqual([]);
    await expectNoAccess(invitee, tenantId);
  });

  it("a stranger can neither accept nor decline someone else's invitation: 404, like an unknown id", async () => {
    const [invitee, stranger] = await Promise.all([
      newActor(client, 'inv-target'),
      newActor(client, 'inv-stranger'),
    ]);
    const id = await invite(owner, tenantId, invitee.email, 'admin');
    const unknown = await stranger.call('POST', '/me/invitations/i_aaaaaaaaaaaaaaaaaaaa/accept');
    for (const verb of ['accept', 'decline']) {
      const response = await stranger.call('POST', `/me/invitations/${id}/${verb}`);
      expect(response.status).toBe(404);
      expect(errorOf(response)).toMatchObject({
        code: errorOf(unknown)?.code,
        message: errorOf(unknown)?.message,
      });
    }
    expect(await myInvitations(stranger)).toEqual([]);
    await expectNoAccess(stranger, tenantId);
    // Still the invitee's to accept.
    expectStatus(await invitee.call('POST', `/me/invitations/${id}/accept`), 200);
  });

  it('an expired invitation answers 410 invitation_expired to its invitee, and inviting again refreshes it', async () => {
    const invitee = await newActor(client, 'inv-expired');
    const id = await invite(owner, tenantId, invitee.email, 'viewer');
    await expire(id);
    expect(await myInvitations(invitee)).toEqual([]);
    expect((await tenantInvitations(owner, tenantId)).find((i) => i.id === id)?.status).toBe('expired');
    for (const verb of ['accept', 'decline']) {
      const response = await invitee.call('POST', `/me/invitations/${id}/${verb}`);
      expect(response.status).toBe(410);
      expect(errorOf(response)?.code).toBe('invitation_expired');
    }
    await expectNoAccess(invitee, tenantId);

    // Re-inviting the same email (any case) refreshes the pending invitation: same id, new role and expiry.
    const again = await invite(owner, tenantId, invitee.email.toUpperCase(), 'member');
    expect(again).toBe(id);
    const [refreshed] = await myInvitations(invitee);
    expect(refreshed).toMatchObject({ id, role: 'member' });
    expect(Date.parse(refreshed?.expiresAt ?? '')).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    expect((await tenantInvitations(owner, tenantId)).filter((i) => i.id === id)).toHaveLength(1);
    expect(
      (await invitee.call('POST', `/me/invitations/${id}/accept`)).body as { role: string },
    ).toMatchObject({ role: 'member' });
  });

  it('refuses an invitee whose email is not verified (403 email_not_verified), and accepts once it is', async () => {
    const invitee = await newActor(client, 'inv-unverified');
    const id = await invite(owner, tenantId, invitee.email, 'member');
    await client.setEmailVerified(invitee.email, false);
    await invitee.refresh();
    for (const [method, path] of [
      ['GET', '/me/invitations'],
      ['POST', `/me/invitations/${id}/accept`],
      ['POST', `/me/invitations/${id}/decline`],
    ] as const) {
      const response = await invitee.call(method, path);
      expect(response.status, `${method} ${path}`).toBe(403);
      expect(errorOf(response)?.code).toBe('email_not_verified');
    }
    await expectNoAccess(invitee, tenantId);
    await client.setEmailVerified(invitee.email, true);
    await invitee.refresh();
    expectStatus(await invitee.call('POST', `/me/invitations/${id}/accept`), 200);
  });

  it('a user created by an invitation signs in with the temporary password, sets their own, and accepts', async () => {
    const email = `inv-new-${randomUUID().slice(0, 8)}@example.com`;
    const id = await invite(owner, tenantId, email, 'viewer');
    // What the invitation email carries: a temporary password (set here, as we cannot read the mail).
    const temporary = 'Temporary-Pass-1!';
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: info.userPoolId,
        Username: email,
        Password: temporary,
        Permanent: false,
      }),
    );
    const challenge = await cognito.send(
      new InitiateAuthCommand({
        ClientId: info.clientId,
        AuthFlow: 'USER_PASSWORD_AUTH',
        AuthParameters: { USERNAME: email, PASSWORD: temporary },
      }),
    );
    expect(challenge.ChallengeName).toBe('NEW_PASSWORD_REQUIRED');
    const signedIn = await cognito.send(
      new RespondToAuthChallengeCommand({
        ClientId: info.clientId,
        ChallengeName: 'NEW_PASSWORD_REQUIRED',
        Session: challenge.Session,
        ChallengeResponses: { USERNAME: email, NEW_PASSWORD: PASSWORD },
      }),
    );
    const token = signedIn.AuthenticationResult?.IdToken ?? '';
    const call = (method: string, path: string) => client.call(method, path, { token });
    // Signing in alone does not join: the invitation waits for the new user's consent.
    expect((await call('GET', `/tenants/${tenantId}`)).status).toBe(404);
    const mine = expectStatus(await call('GET', '/me/invitations'), 200).body as { items: MyInvitation[] };
    expect(mine.items.map((i) => i.id)).toEqual([id]);
    expectStatus(await call('POST', `/me/invitations/${id}/accept`), 200);
    expectStatus(await call('GET', `/tenants/${tenantId}`), 200);
  });

  it('pages my invitations with limit and cursor', async () => {
    const invitee = await newActor(client, 'inv-pages');
    const owners = await Promise.all([1, 2, 3].map(() => newActor(client, 'inv-page-owner')));
    const tenants = await Promise.all(owners.map((o) => newTenant(o)));
    const ids: string[] = [];
    for (const [i, o] of owners.entries())
      ids.push(await invite(o, (tenants[i] as { tenantId: string }).tenantId, invitee.email, 'viewer'));
    const first = expectStatus(await invitee.call('GET', '/me/invitations?limit=2'), 200).body as {
      items: MyInvitation[];
      nextCursor: string;
    };
    expect(first.items).toHaveLength(2);
    const second = expectStatus(
      await invitee.call('GET', `/me/invitations?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`),
      200,
    ).body as { items: MyInvitation[]; nextCursor: string | null };
    expect(second.nextCursor).toBeNull();
    expect([...first.items, ...second.items].map((i) => i.id)).toEqual(ids);
  });

  it('a member without members:write can list but not revoke; a pending invitee or stranger cannot list', async () => {
    // Every built-in role holds members:read (shared/domain/permissions.ts), and custom roles only
    // add to a built-in role, so "no members:read" means "not a member": a pending invitee or a
    // stranger, who must not learn that the tenant exists.
    const [viewer, invitee, stranger] = await Promise.all([
      newActor(client, 'inv-viewer'),
      newActor(client, 'inv-pending'),
      newActor(client, 'inv-stranger'),
    ]);
    await addMember(owner, tenantId, viewer, 'viewer');
    const id = await invite(owner, tenantId, invitee.email, 'member');
    expect((await tenantInvitations(viewer, tenantId)).map((i) => i.id)).toContain(id);
    const revoke = await viewer.call('DELETE', `/tenants/${tenantId}/invitations/${id}`);
    expect(revoke.status).toBe(403);
    const invite2 = await viewer.call('POST', `/tenants/${tenantId}/members`, {
      email: `x-${randomUUID().slice(0, 6)}@example.com`,
      role: 'viewer',
    });
    expect(invite2.status).toBe(403);
    for (const outsider of [invitee, stranger]) {
      const listed = await outsider.call('GET', `/tenants/${tenantId}/invitations`);
      expect(listed.status).toBe(404);
      expect(errorOf(listed)?.code).toBe('not_found');
    }
    // The refused revoke left the invitation pending.
    expect((await tenantInvitations(owner, tenantId)).map((i) => i.id)).toContain(id);
  });

  it('an admin cannot invite as owner, nor revoke an owner invitation (escalation rules at invite time)', async () => {
    const [admin, future] = await Promise.all([
      newActor(client, 'inv-admin'),
      newActor(client, 'inv-future-owner'),
    ]);
    await addMember(owner, tenantId, admin, 'admin');
    const asOwner = await admin.call('POST', `/tenants/${tenantId}/members`, {
      email: future.email,
      role: 'owner',
    });
    expect(asOwner.status).toBe(403);
    const id = await invite(owner, tenantId, future.email, 'owner');
    expect((await admin.call('DELETE', `/tenants/${tenantId}/invitations/${id}`)).status).toBe(403);
    expectStatus(await future.call('POST', `/me/invitations/${id}/accept`), 200);
    expect((await membershipsOf(future)).find((m) => m.tenantId === tenantId)).toMatchObject({
      role: 'owner',
    });
  });

  it('audits each step with a distinct action: invite and revoke in the tenant, accept and decline as the invitee', async () => {
    const [accepting, declining, revoked] = await Promise.all([
      newActor(client, 'inv-audit-a'),
      newActor(client, 'inv-audit-d'),
      newActor(client, 'inv-audit-r'),
    ]);
    const a = await invite(owner, tenantId, accepting.email, 'viewer');
    const d = await invite(owner, tenantId, declining.email, 'viewer');
    const r = await invite(owner, tenantId, revoked.email, 'viewer');
    expectStatus(await accepting.call('POST', `/me/invitations/${a}/accept`), 200);
    expectStatus(await declining.call('POST', `/me/invitations/${d}/decline`), 204);
    expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/invitations/${r}`), 204);

    const revokes = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/audit?action=invitations.revoke`),
      // Wait for this revoke's record: the tenant's log holds refused revokes of earlier tests too.
      (response) =>
        ((response.body as { items?: { resource: string }[] }).items ?? []).some((item) =>
          item.resource.endsWith(r),
        ),
    );
    expect((revokes.body as { items: { resource: string; userId: string }[] }).items).toContainEqual(
      expect.objectContaining({ resource: `/tenants/${tenantId}/invitations/${r}`, userId: owner.userId }),
    );
    const invites = expectStatus(
      await owner.call('GET', `/tenants/${tenantId}/audit?action=members.invite&limit=100`),
      200,
    ).body as { items: { statusCode: number }[] };
    expect(invites.items.filter((item) => item.statusCode === 201).length).toBeGreaterThanOrEqual(3);

    // Accept and decline name no tenant in their path; they are still the tenant's records.
    const answered = await eventually(
      () => owner.call('GET', `/tenants/${tenantId}/audit?limit=100`),
      (response) => {
        const items = (response.body as { items?: { resource: string }[] }).items ?? [];
        return [a, d].every((id) => items.some((item) => item.resource.includes(id)));
      },
    );
    const items = (answered.body as { items: { resource: string; action: string; userId: string }[] }).items;
    const of = (id: string) => items.find((item) => item.resource.includes(id));
    expect(of(a)).toMatchObject({ action: 'invitations.accept', userId: accepting.userId });
    expect(of(d)).toMatchObject({ action: 'invitations.decline', userId: declining.userId });
    // A refused accept (someone else's invitation) stays out of the tenant's log.
    const stranger = await newActor(client, 'inv-audit-s');
    const guess = await invite(owner, tenantId, `${randomUUID().slice(0, 8)}@example.com`, 'viewer');
    expect((await stranger.call('POST', `/me/invitations/${guess}/accept`)).status).toBe(404);
    const platformAudit = async () =>
      (
        await dynamo.send(
          new QueryCommand({
            TableName: info.tables.audit,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: auditPartition(null) } },
            // Newest first: the whole run's platform records can exceed one page.
            ScanIndexForward: false,
          }),
        )
      ).Items ?? [];
    const refused = await eventually(platformAudit, (found) =>
      found.some((item) => item.resource?.S?.includes(guess)),
    );
    expect(refused.find((item) => item.resource?.S?.includes(guess))).toMatchObject({
      userId: { S: stranger.userId },
      statusCode: { N: '404' },
    });
    const tenantLog = expectStatus(await owner.call('GET', `/tenants/${tenantId}/audit?limit=100`), 200)
      .body as { items: { resource: string }[] };
    expect(tenantLog.items.filter((item) => item.resource.includes(guess))).toEqual([]);
  });
});
