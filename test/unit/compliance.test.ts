import { describe, expect, it } from 'vitest';
import {
  adminsActive,
  auditRetentionConfigured,
  backupRecent,
  type ComplianceFacts,
  type ComplianceMember,
  complianceChecks,
  encryptedAtRest,
  invitationsFresh,
  ownerPresent,
  privilegedChangesListed,
  privilegedMfa,
} from '#shared/compliance/checks';
import { dataProtectionFrom } from '#shared/compliance/data-protection';
import { COMPLIANCE_HTML_CSP, complianceHtml, escapeHtml } from '#shared/compliance/html';
import {
  type ComplianceDeps,
  type ComplianceReport,
  complianceReport,
  MAX_MFA_LOOKUPS,
  MAX_PRIVILEGED_PAGES,
  PRIVILEGED_ACTIONS,
} from '#shared/compliance/report';
import type { ComplianceMemberRow } from '#shared/control/compliance-queries';
import type { TenantRecord } from '#shared/control/control-records';
import { ConfigError, NotFound } from '#shared/errors';
import { actionOf } from '#shared/records/audit-actions';
import { routeList } from '#shared/routes/table';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000).toISOString();

const member = (over: Partial<ComplianceMember> & Pick<ComplianceMember, 'role'>): ComplianceMember => ({
  userId: `u-${over.role}-${Math.random().toString(36).slice(2, 8)}`,
  email: `${over.role}@example.com`,
  joinedAt: daysAgo(400),
  lastSignInAt: daysAgo(1),
  ...over,
});

/** A tenant that passes every check. */
const healthy: ComplianceFacts = {
  now: NOW,
  members: [
    member({ role: 'owner', mfa: true }),
    member({ role: 'admin', mfa: true }),
    member({ role: 'viewer', lastSignInAt: daysAgo(300) }),
  ],
  stalePendingInvitations: { count: 0, oldest: [] },
  privilegedChanges: [
    {
      at: daysAgo(2),
      action: 'members.changeRole',
      userId: 'u1',
      resource: '/x',
      details: { role: 'admin' },
    },
  ],
  privilegedChangesComplete: true,
  databases: [
    {
      databaseId: 'db_1',
      cluster: 'primary',
      region: 'eu-west-1',
      encrypted: true,
      engine: 'aurora-postgresql',
    },
  ],
  backups: { latestCompletedAt: hoursAgo(3), retentionDays: 30 },
  auditRetentionDays: 400,
};

describe('compliance checks: each passes on a healthy tenant and fails on its own fixture', () => {
  it('every check passes on the healthy fixture, in the report order', () => {
    const checks = complianceChecks(healthy);
    expect(checks.map((c) => c.id)).toEqual([
      'owner-present',
      'invitations-fresh',
      'admins-active',
      'privileged-mfa',
      'privileged-changes-listed',
      'encryption-at-rest',
      'backup-recent',
      'audit-retention',
    ]);
    expect(checks.map((c) => [c.id, c.status])).toEqual(checks.map((c) => [c.id, 'pass']));
  });

  it('privileged-mfa: warns for an owner or admin without a second factor, or one the pool could not say for; members do not count', () => {
    const without = privilegedMfa({
      members: [member({ role: 'owner', mfa: true }), member({ role: 'admin', email: 'a@x.io', mfa: false })],
    });
    expect(without).toMatchObject({ status: 'warn' });
    expect(without.evidence).toContain('a@x.io (admin)');
    expect(without.evidence).toMatch(/^1 owner or admin without a second factor/);
    const unknown = privilegedMfa({ members: [member({ role: 'owner', email: 'o@x.io' })] });
    expect(unknown).toMatchObject({ status: 'warn' });
    expect(unknown.evidence).toContain('could not say for 1 owner or admin: o@x.io (owner)');
    expect(
      privilegedMfa({
        members: [member({ role: 'owner', mfa: true }), member({ role: 'viewer', mfa: false })],
      }),
    ).toMatchObject({ status: 'pass' });
  });

  it('owner-present: fails with no owner; warns when the only owners are inherited', () => {
    expect(ownerPresent({ members: [member({ role: 'admin' })] })).toMatchObject({ status: 'fail' });
    const inherited = ownerPresent({ members: [member({ role: 'owner', inheritedFrom: 't_parent' })] });
    expect(inherited).toMatchObject({ status: 'warn' });
    expect(inherited.evidence).toContain('t_parent');
    expect(ownerPresent(healthy).evidence).toContain('owner@example.com');
  });

  it('invitations-fresh: fails with a pending invitation older than 30 days, naming it', () => {
    const check = invitationsFresh({
      stalePendingInvitations: {
        count: 1,
        oldest: [{ email: 'late@example.com', role: 'admin', createdAt: daysAgo(31) }],
      },
    });
    expect(check.status).toBe('fail');
    expect(check.evidence).toContain('late@example.com');
    expect(check.evidence).toContain('1 pending invitation');
  });

  it('admins-active: fails for an admin last signed in 91 days ago; warns for one never recorded who joined long ago; a viewer does not count', () => {
    const stale = adminsActive({
      now: NOW,
      members: [member({ role: 'admin', email: 'old@x.io', lastSignInAt: daysAgo(91) })],
    });
    expect(stale.status).toBe('fail');
    expect(stale.evidence).toContain('old@x.io (admin, 91 days)');
    // 89 days: still active.
    expect(
      adminsActive({ now: NOW, members: [member({ role: 'owner', lastSignInAt: daysAgo(89) })] }).status,
    ).toBe('pass');
    const { lastSignInAt: _none, ...neverSeen } = member({ role: 'owner' });
    expect(adminsActive({ now: NOW, members: [neverSeen] }).status).toBe('warn');
    // Joined 10 days ago and not signed in since: not inactive yet.
    expect(adminsActive({ now: NOW, members: [{ ...neverSeen, joinedAt: daysAgo(10) }] }).status).toBe(
      'pass',
    );
    expect(
      adminsActive({ now: NOW, members: [member({ role: 'viewer', lastSignInAt: daysAgo(500) })] }).status,
    ).toBe('pass');
  });

  it('privileged-changes-listed: fails when audit retention is shorter than the window; warns when the list was cut', () => {
    expect(privilegedChangesListed({ ...healthy, auditRetentionDays: 7 }).status).toBe('fail');
    expect(privilegedChangesListed({ ...healthy, auditRetentionDays: null }).status).toBe('fail');
    expect(privilegedChangesListed({ ...healthy, privilegedChangesComplete: false }).status).toBe('warn');
    expect(privilegedChangesListed(healthy).evidence).toContain('1 privileged change in the last 30 days');
  });

  it('encryption-at-rest: fails for a database on unencrypted storage, or on a cluster the configuration does not name', () => {
    const plain = encryptedAtRest({
      databases: [
        {
          databaseId: 'db_2',
          cluster: 'primary',
          region: 'local',
          encrypted: false,
          engine: 'embedded-postgres',
        },
      ],
    });
    expect(plain.status).toBe('fail');
    expect(plain.evidence).toContain('db_2 (cluster primary, embedded-postgres)');
    const unknown = encryptedAtRest({
      databases: [{ databaseId: 'db_3', cluster: 'c9', region: null, encrypted: false, engine: null }],
    });
    expect(unknown.status).toBe('fail');
    expect(unknown.evidence).toContain('not in the configuration');
    expect(encryptedAtRest({ databases: [] }).status).toBe('pass');
  });

  it('backup-recent: fails at 48 hours; passes at 47; warns when no backup has completed', () => {
    expect(backupRecent({ now: NOW, backups: { latestCompletedAt: hoursAgo(48) } }).status).toBe('fail');
    expect(backupRecent({ now: NOW, backups: { latestCompletedAt: hoursAgo(47) } }).status).toBe('pass');
    const none = backupRecent({ now: NOW, backups: { retentionDays: 30 } });
    expect(none.status).toBe('warn');
    expect(none.evidence).toContain('kept 30 days');
  });

  it('audit-retention: fails when the deployment does not say; warns under a year', () => {
    expect(auditRetentionConfigured({ auditRetentionDays: null }).status).toBe('fail');
    expect(auditRetentionConfigured({ auditRetentionDays: 90 }).status).toBe('warn');
    expect(auditRetentionConfigured({ auditRetentionDays: 365 }).status).toBe('pass');
  });
});

describe('privileged actions', () => {
  it('each is the audit action of a route that exists (a renamed route would silently drop it)', () => {
    const actions = new Set(routeList.map(actionOf));
    for (const action of PRIVILEGED_ACTIONS) expect(actions, action).toContain(action);
  });
});

describe('data protection configuration', () => {
  it('parses CLUSTER_STORAGE and AUDIT_RETENTION_DAYS, and refuses either missing or malformed', () => {
    const env = {
      CLUSTER_STORAGE: '{"primary":{"region":"eu-west-1","engine":"aurora-postgresql","encrypted":true}}',
      AUDIT_RETENTION_DAYS: '400',
    };
    expect(dataProtectionFrom(env)).toEqual({
      clusters: { primary: { region: 'eu-west-1', engine: 'aurora-postgresql', encrypted: true } },
      auditRetentionDays: 400,
    });
    expect(() => dataProtectionFrom({ CLUSTER_STORAGE: env.CLUSTER_STORAGE })).toThrow(ConfigError);
    expect(() => dataProtectionFrom({ ...env, CLUSTER_STORAGE: 'nope' })).toThrow(/CLUSTER_STORAGE/);
    expect(() =>
      dataProtectionFrom({
        ...env,
        CLUSTER_STORAGE: '{"primary":{"region":"x","engine":"y","encrypted":"yes"}}',
      }),
    ).toThrow(ConfigError);
  });
});

const report = (over: Partial<ComplianceReport> = {}): ComplianceReport => ({
  generatedAt: NOW.toISOString(),
  tenant: { id: 't_x', name: 'Acme', status: 'active', plan: 'free' },
  thresholds: {
    pendingInvitationDays: 30,
    adminInactiveDays: 90,
    privilegedChangeDays: 30,
    backupMaxAgeHours: 48,
    auditRetentionRecommendedDays: 365,
  },
  checks: complianceChecks(healthy),
  access: { members: [], membersComplete: true, privilegedChanges: [], privilegedChangesComplete: true },
  data: { databases: [], backups: {} },
  audit: {
    retentionDays: 400,
    records: 3,
    window: { from: daysAgo(30), to: NOW.toISOString() },
    complete: true,
  },
  ...over,
});

describe('compliance HTML', () => {
  it('escapes every value a tenant or member controls: no element, attribute or script can be injected', () => {
    const hostile = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>';
    const html = complianceHtml(
      report({
        tenant: { id: 't_x', name: hostile, status: 'active', plan: 'free' },
        access: {
          members: [{ userId: 'u1', email: hostile, role: 'owner' }],
          membersComplete: true,
          privilegedChanges: [
            {
              at: NOW.toISOString(),
              action: 'members.invite',
              userId: 'u1',
              resource: hostile,
              details: { email: hostile },
            },
          ],
          privilegedChangesComplete: true,
        },
      }),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;');
    expect(escapeHtml('a&b<c>"d\'')).toBe('a&amp;b&lt;c&gt;&quot;d&#39;');
  });

  it('lists each check with its id, status and evidence, and says when a list was cut', () => {
    const html = complianceHtml(
      report({
        access: {
          members: [],
          membersComplete: false,
          privilegedChanges: [],
          privilegedChangesComplete: true,
        },
      }),
    );
    for (const check of complianceChecks(healthy)) {
      expect(html).toContain(`data-check-id="${check.id}"`);
    }
    expect(html).toContain('Not every member is listed');
  });

  it('says per member whether a second factor is on: yes, no, or a dash when the report cannot say', () => {
    const html = complianceHtml(
      report({
        access: {
          members: [
            { userId: 'u1', email: 'on@x.io', role: 'owner', mfa: true },
            { userId: 'u2', email: 'off@x.io', role: 'admin', mfa: false },
            { userId: 'u3', email: 'unknown@x.io', role: 'viewer' },
          ],
          membersComplete: true,
          privilegedChanges: [],
          privilegedChangesComplete: true,
        },
      }),
    );
    expect(html).toContain('<th>Second factor</th>');
    const row = (email: string) =>
      html.slice(html.indexOf(email), html.indexOf('</tr>', html.indexOf(email)));
    expect(row('on@x.io')).toMatch(/<td>yes<\/td>$/);
    expect(row('off@x.io')).toMatch(/<td>no<\/td>$/);
    expect(row('unknown@x.io')).toMatch(/<td>—<\/td>$/);
  });

  it('its CSP allows no script, no remote resource, only its own style by hash', () => {
    expect(COMPLIANCE_HTML_CSP).toContain("default-src 'none'");
    expect(COMPLIANCE_HTML_CSP).toMatch(/style-src 'sha256-[A-Za-z0-9+/=]{44}'/);
    expect(COMPLIANCE_HTML_CSP).not.toContain('unsafe');
    expect(COMPLIANCE_HTML_CSP).not.toContain('script-src');
  });
});

describe('the report use case (fakes of the stores)', () => {
  const tenant = {
    id: 't_x',
    name: 'Acme',
    status: 'active',
    plan: 'free',
    planOverrides: {},
  } as unknown as TenantRecord;
  const deps = (over: Partial<ComplianceDeps> = {}): ComplianceDeps => ({
    tenants: { get: async (id) => (id === 't_x' ? tenant : null) },
    databases: { ofTenant: async () => [] },
    queries: {
      members: async () => ({
        items: [
          {
            userId: 'u1',
            email: 'o@x.io',
            role: 'owner',
            joinedAt: daysAgo(5),
            lastSignInAt: null,
            inheritedFrom: null,
          },
        ],
        complete: true,
      }),
      stalePendingInvitations: async () => ({ count: 0, oldest: [] }),
      latestCompletedBackup: async () => null,
    },
    audit: {
      query: async () => ({ items: [], nextSk: null }),
      count: async () => ({ records: 4, complete: true }),
    },
    dataProtection: { clusters: {}, auditRetentionDays: 400 },
    ...over,
  });

  it('an unknown tenant is a NotFound', async () => {
    await expect(complianceReport(deps(), 't_y', NOW)).rejects.toBeInstanceOf(NotFound);
  });

  it('asks for the privileged actions only, keeps successful changes, and stops after MAX_PRIVILEGED_PAGES pages as incomplete', async () => {
    const asked: unknown[] = [];
    let pages = 0;
    const report = await complianceReport(
      deps({
        audit: {
          query: async (_tenant, query) => {
            asked.push(query.actions);
            pages++;
            return {
              items: [
                {
                  eventId: `e${pages}`,
                  tenantId: 't_x',
                  userId: 'u1',
                  action: 'members.invite',
                  resource: '/r',
                  outcome: 'success',
                  statusCode: 201,
                  requestId: 'r',
                  at: NOW.toISOString(),
                  details: {},
                },
                {
                  eventId: `d${pages}`,
                  tenantId: 't_x',
                  userId: 'u2',
                  action: 'members.invite',
                  resource: '/r',
                  outcome: 'denied',
                  statusCode: 403,
                  requestId: 'r',
                  at: NOW.toISOString(),
                  details: {},
                },
              ],
              nextSk: `sk${pages}`,
            };
          },
          count: async () => ({ records: 9, complete: false }),
        },
      }),
      't_x',
      NOW,
    );
    expect(pages).toBe(MAX_PRIVILEGED_PAGES);
    expect(asked[0]).toEqual(PRIVILEGED_ACTIONS);
    expect(report.access.privilegedChanges).toHaveLength(MAX_PRIVILEGED_PAGES);
    expect(report.access.privilegedChanges.every((c) => c.userId === 'u1')).toBe(true);
    expect(report.access.privilegedChangesComplete).toBe(false);
    expect(report.checks.find((c) => c.id === 'privileged-changes-listed')?.status).toBe('warn');
    expect(report.audit).toMatchObject({ records: 9, complete: false, retentionDays: 400 });
    // A member with no recorded sign-in has no lastSignInAt at all (not null).
    expect(report.access.members[0]).toEqual({ userId: 'u1', email: 'o@x.io', role: 'owner' });
    // No pool to ask: no member has `mfa`, and the check says it cannot tell.
    expect(report.checks.find((c) => c.id === 'privileged-mfa')?.status).toBe('warn');
  });

  it('asks the pool about owners and admins only, at most MAX_MFA_LOOKUPS, and a failed lookup leaves mfa absent', async () => {
    const privileged = Array.from(
      { length: MAX_MFA_LOOKUPS + 5 },
      (_, i): ComplianceMemberRow => ({
        userId: `a${i}`,
        email: `a${i}@x.io`,
        role: i === 0 ? 'owner' : 'admin',
        joinedAt: daysAgo(5),
        lastSignInAt: daysAgo(1),
        inheritedFrom: null,
      }),
    );
    const viewer: ComplianceMemberRow = {
      ...privileged[1],
      userId: 'v1',
      email: 'v@x.io',
      role: 'viewer',
    } as ComplianceMemberRow;
    const asked: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const report = await complianceReport(
      deps({
        queries: {
          members: async () => ({ items: [...privileged, viewer], complete: true }),
          stalePendingInvitations: async () => ({ count: 0, oldest: [] }),
          latestCompletedBackup: async () => null,
        },
        mfa: async (userId) => {
          asked.push(userId);
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 1));
          inFlight--;
          if (userId === 'a2') throw new Error('TooManyRequestsException');
          return userId !== 'a1';
        },
      }),
      't_x',
      NOW,
    );
    expect(asked).toHaveLength(MAX_MFA_LOOKUPS);
    expect(asked).not.toContain('v1');
    expect(maxInFlight).toBeLessThanOrEqual(4);
    const byId = new Map(report.access.members.map((m) => [m.userId, m]));
    expect(byId.get('a0')?.mfa).toBe(true);
    expect(byId.get('a1')?.mfa).toBe(false);
    expect(byId.get('a2')).not.toHaveProperty('mfa');
    expect(byId.get(`a${MAX_MFA_LOOKUPS + 1}`)).not.toHaveProperty('mfa');
    expect(byId.get('v1')).not.toHaveProperty('mfa');
    const check = report.checks.find((c) => c.id === 'privileged-mfa');
    expect(check?.status).toBe('warn');
    expect(check?.evidence).toContain('a1@x.io (admin)');
    expect(check?.evidence).toContain('could not say for 6 owners or admins');
  });
});
