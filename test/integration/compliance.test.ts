import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { LOCAL_STORAGE_ENGINE } from '#infra/local/function-services';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '#shared/composition/record-services';
import { type Actor, addMember, eventually, invite, newActor, newTenant } from '../support/actors.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';

/**
 * The compliance report on the local platform (issue 19; docs/compliance.md): who may read it,
 * what it says of a tenant as it is, and each check turning to `fail` when the control database
 * says so (an invitation left pending, an admin who stopped signing in, a backup grown old).
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

interface Report {
  generatedAt: string;
  tenant: { id: string; name: string };
  checks: { id: string; title: string; status: 'pass' | 'warn' | 'fail'; evidence: string }[];
  access: {
    members: {
      userId: string;
      email: string;
      role: string;
      inheritedFrom?: string;
      lastSignInAt?: string;
      mfa?: boolean;
    }[];
    membersComplete: boolean;
    privilegedChanges: { at: string; action: string; userId: string; resource: string; details: object }[];
  };
  data: {
    databases: { databaseId: string; cluster: string | null; region: string | null; encrypted: boolean }[];
    backups: { latestCompletedAt?: string; retentionDays?: number };
  };
  audit: { retentionDays: number; records: number; window: { from: string; to: string }; complete: boolean };
}

const control = <T>(work: Parameters<typeof withPg<T>>[2]) => withPg(info, 'control', work);

describe('GET /tenants/{tenantId}/compliance', () => {
  let owner: Actor;
  let admin: Actor;
  let member: Actor;
  let auditor: Actor;
  let stranger: Actor;
  let tenantId: string;

  const reportAs = async (actor: Actor) =>
    expectStatus(await actor.call('GET', `/tenants/${tenantId}/compliance`), 200).body as Report;
  const check = (report: Report, id: string) => {
    const found = report.checks.find((c) => c.id === id);
    if (!found) throw new Error(`no check ${id} in ${JSON.stringify(report.checks)}`);
    return found;
  };

  beforeAll(async () => {
    [owner, admin, member, auditor, stranger] = await Promise.all([
      newActor(client, 'cmp-owner'),
      newActor(client, 'cmp-admin'),
      newActor(client, 'cmp-member'),
      newActor(client, 'cmp-auditor'),
      newActor(client, 'cmp-stranger'),
    ]);
    ({ tenantId } = await newTenant(owner));
    await newTenant(stranger);
    await addMember(owner, tenantId, admin, 'admin');
    await addMember(owner, tenantId, member, 'member');
    await addMember(owner, tenantId, auditor, 'viewer');
    // A custom role granting only the report (and an invitation's role change: a privileged change).
    const role = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/roles`, {
        name: 'Auditor',
        permissions: { compliance: ['read'] },
      }),
      201,
    ).body as { id: string };
    expectStatus(
      await owner.call('PUT', `/tenants/${tenantId}/members/${auditor.userId}/roles/${role.id}`),
      200,
      204,
    );
    expectStatus(
      await owner.call('PATCH', `/tenants/${tenantId}/members/${member.userId}`, { role: 'viewer' }),
      200,
    );
  });

  it('owners, admins and a custom role with compliance:read read it; a member gets 403, a stranger 404', async () => {
    expect((await reportAs(owner)).tenant.id).toBe(tenantId);
    expect((await reportAs(admin)).tenant.id).toBe(tenantId);
    expect((await reportAs(auditor)).tenant.id).toBe(tenantId);
    const denied = await member.call('GET', `/tenants/${tenantId}/compliance`);
    expect(denied.status).toBe(403);
    expect(JSON.stringify(denied.body)).not.toContain(owner.email);
    const foreign = await stranger.call('GET', `/tenants/${tenantId}/compliance`);
    expect(foreign.status).toBe(404);
    expect(errorOf(foreign)?.code).toBe('not_found');
    expect(JSON.stringify(foreign.body)).not.toContain(owner.email);
  });

  it('reports the tenant as it is: its members with their sign-ins, its database on the local engine, the audit trail', async () => {
    const report = await reportAs(owner);
    expect(Date.parse(report.generatedAt)).toBeGreaterThan(Date.now() - 60_000);
    const emails = report.access.members.map((m) => m.email).sort();
    expect(emails).toEqual([admin.email, auditor.email, member.email, owner.email].sort());
    const signedIn = report.access.members.find((m) => m.userId === owner.userId);
    // The owner signed in (cognito-local ran the pre-token trigger): recorded within the last minutes.
    expect(Date.parse(signedIn?.lastSignInAt ?? '')).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(report.access.membersComplete).toBe(true);
    expect(check(report, 'owner-present').status).toBe('pass');
    expect(check(report, 'invitations-fresh').status).toBe('pass');
    expect(check(report, 'admins-active').status).toBe('pass');
    // The pool is asked about the owner and the admin (AdminGetUser by sub, allowed by the
    // memberMfaStatus grant in the IAM stand-in): neither enrolled a second factor here.
    const byUser = new Map(report.access.members.map((m) => [m.userId, m]));
    expect(byUser.get(owner.userId)?.mfa).toBe(false);
    expect(byUser.get(admin.userId)?.mfa).toBe(false);
    expect(byUser.get(member.userId)).not.toHaveProperty('mfa');
    const mfa = check(report, 'privileged-mfa');
    expect(mfa.status).toBe('warn');
    expect(mfa.evidence).toContain(`${owner.email} (owner)`);
    expect(mfa.evidence).toContain(`${admin.email} (admin)`);
    expect(mfa.evidence).not.toContain('could not say');
    // The local platform says what it stores data on: not encrypted at rest, and the check says so.
    expect(report.data.databases.length).toBeGreaterThan(0);
    for (const database of report.data.databases) {
      expect(database).toMatchObject({ cluster: 'primary', region: info.region, encrypted: false });
    }
    const encryption = check(report, 'encryption-at-rest');
    expect(encryption.status).toBe('fail');
    expect(encryption.evidence).toContain(LOCAL_STORAGE_ENGINE);
    // No backup yet: a warning, with the plan's retention.
    expect(check(report, 'backup-recent').status).toBe('warn');
    expect(report.data.backups.retentionDays).toBeGreaterThan(0);
    expect(report.audit.retentionDays).toBe(DEFAULT_AUDIT_RETENTION_DAYS);
    expect(check(report, 'audit-retention').status).toBe('pass');
    expect(report.audit.complete).toBe(true);
  });

  it('lists the privileged changes of the window from the audit trail (invitations, role changes, custom roles), and counts the records', async () => {
    const report = await eventually(
      () => reportAs(owner),
      (r) =>
        ['members.invite', 'members.changeRole', 'roles.create', 'roles.assign'].every((a) =>
          r.access.privilegedChanges.some((c) => c.action === a),
        ),
    );
    const actions = new Set(report.access.privilegedChanges.map((c) => c.action));
    for (const action of ['members.invite', 'members.changeRole', 'roles.create', 'roles.assign']) {
      expect(actions, action).toContain(action);
    }
    // Reads are not privileged changes.
    expect(actions).not.toContain('compliance.getReport');
    expect(report.access.privilegedChanges.every((c) => c.userId === owner.userId)).toBe(true);
    expect(check(report, 'privileged-changes-listed').status).toBe('pass');
    expect(report.audit.records).toBeGreaterThanOrEqual(report.access.privilegedChanges.length);
  });

  it('fails invitations-fresh for an invitation pending 31 days, admins-active for an admin away 100 days, backup-recent for a backup 3 days old', async () => {
    // Arrange: the control database says what the API cannot make happen in a test.
    const invitationId = await invite(owner, tenantId, 'slow-invitee@example.com', 'viewer');
    await control((pg) =>
      pg.query(`update invitations set created_at = now() - interval '31 days' where id = $1`, [
        invitationId,
      ]),
    );
    await control((pg) =>
      pg.query(`update users set last_sign_in_at = now() - interval '100 days' where id = $1`, [
        admin.userId,
      ]),
    );
    await control((pg) =>
      pg.query(
        `insert into backups (id, tenant_id, status, trigger, started_at, completed_at, manifest)
         values ('b_compliancetest22', $1, 'completed', 'request', now() - interval '73 hours', now() - interval '72 hours', '{}')`,
        [tenantId],
      ),
    );
    // Act
    const report = await reportAs(owner);
    // Assert
    const invitations = check(report, 'invitations-fresh');
    expect(invitations.status).toBe('fail');
    expect(invitations.evidence).toContain('slow-invitee@example.com');
    const admins = check(report, 'admins-active');
    expect(admins.status).toBe('fail');
    expect(admins.evidence).toContain(admin.email);
    const backup = check(report, 'backup-recent');
    expect(backup.status).toBe('fail');
    expect(backup.evidence).toContain('72 hours ago');
    expect(Date.parse(report.data.backups.latestCompletedAt ?? '')).toBeLessThan(Date.now() - 71 * 3_600_000);
    // Put right, each passes again.
    await control((pg) =>
      pg.query(`update invitations set status = 'revoked' where id = $1`, [invitationId]),
    );
    await control((pg) => pg.query('update users set last_sign_in_at = now() where id = $1', [admin.userId]));
    await control((pg) =>
      pg.query(`update backups set completed_at = now() - interval '1 hour' where id = 'b_compliancetest22'`),
    );
    const after = await reportAs(owner);
    expect(
      ['invitations-fresh', 'admins-active', 'backup-recent'].map((id) => check(after, id).status),
    ).toEqual(['pass', 'pass', 'pass']);
  });

  it('fails owner-present when the tenant has no owner of its own', async () => {
    await control((pg) =>
      pg.query(`update memberships set role = 'admin' where tenant_id = $1 and user_id = $2`, [
        tenantId,
        owner.userId,
      ]),
    );
    try {
      const report = await reportAs(admin);
      expect(check(report, 'owner-present').status).toBe('fail');
    } finally {
      await control((pg) =>
        pg.query(`update memberships set role = 'owner' where tenant_id = $1 and user_id = $2`, [
          tenantId,
          owner.userId,
        ]),
      );
    }
    expect(check(await reportAs(owner), 'owner-present').status).toBe('pass');
  });

  it('format=html answers a printable page with a strict CSP, every check in it, no script', async () => {
    const response = await owner.call('GET', `/tenants/${tenantId}/compliance?format=html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('cache-control')).toBe('no-store');
    const html = String(response.body);
    expect(html).not.toMatch(/<script/i);
    for (const id of (await reportAs(owner)).checks.map((c) => c.id))
      expect(html).toContain(`data-check-id="${id}"`);
    expect(html).toContain(owner.email);
  });
});
