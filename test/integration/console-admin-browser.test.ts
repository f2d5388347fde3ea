import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, addMember, eventually, invite, newActor, newTenant } from '../support/actors.ts';
import { type Browser, launchBrowser, seriousViolations } from '../support/browser.ts';
import { signIn, watchPage } from '../support/console.ts';

/**
 * The console's roles, audit and platform-admin pages (issue 20) in Debian's Chromium against the
 * local platform: a custom role made in the permission matrix and given to a member, the audit
 * log filtered by action, and a platform admin's tenants list with the plan editor.
 */

const info = inject('platform');
const client = new LocalClient(info);

interface Role {
  id: string;
  name: string;
  permissions: Record<string, string[]>;
}

describe('the console: roles, audit, platform tenants', () => {
  let browser: Browser;
  let owner: Actor;
  let member: Actor;
  let viewer: Actor;
  let admin: Actor;
  let tenantId: string;
  const problems: string[] = [];

  const newPage = async (as: Actor) => {
    const page = await browser.context.newPage();
    watchPage(page, problems);
    await signIn(page, info.consoleUrl, as.email);
    return page;
  };

  beforeAll(async () => {
    [owner, member, viewer, admin] = await Promise.all([
      newActor(client, 'ca-owner'),
      newActor(client, 'ca-member'),
      newActor(client, 'ca-viewer'),
      newActor(client, 'ca-admin', { groups: ['platform-admin'] }),
    ]);
    ({ tenantId } = await newTenant(owner, 'Console Admin Co'));
    await addMember(owner, tenantId, member, 'member');
    await addMember(owner, tenantId, viewer, 'viewer');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    client.close();
  });

  it('creates a custom role in the permission matrix, edits it, and gives it to a member', async () => {
    const page = await newPage(owner);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/roles`);
    await page.getByRole('heading', { name: 'New role' }).waitFor();
    // A name is required: the API's message lands on the field, and no role is made.
    await page.getByRole('button', { name: 'Create role' }).click();
    const name = page.getByLabel('Name', { exact: true });
    await expect.poll(() => name.getAttribute('aria-invalid')).toBe('true');
    expect(((await owner.call('GET', `/tenants/${tenantId}/roles`)).body as { items: Role[] }).items).toEqual(
      [],
    );

    await name.fill('Auditor');
    await page.getByRole('checkbox', { name: 'compliance read' }).check();
    await page.getByRole('checkbox', { name: 'audit read' }).check();
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('status').filter({ hasText: 'Created the role Auditor.' }).waitFor();
    const roles = async () =>
      ((await owner.call('GET', `/tenants/${tenantId}/roles`)).body as { items: Role[] }).items;
    expect((await roles()).map((r) => [r.name, r.permissions])).toEqual([
      ['Auditor', { audit: ['read'], compliance: ['read'] }],
    ]);
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Edit Auditor' }).click();
    await page
      .getByRole('table', { name: 'Permissions of Auditor' })
      .getByRole('checkbox', { name: 'usage read' })
      .check();
    await page.getByRole('button', { name: 'Save Auditor' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved the role Auditor.' }).waitFor();
    expect((await roles())[0]?.permissions).toEqual({
      audit: ['read'],
      usage: ['read'],
      compliance: ['read'],
    });

    await page.getByLabel('Give Auditor to').selectOption({ label: member.email });
    await page.getByRole('button', { name: 'Give role' }).click();
    await page.getByRole('status').filter({ hasText: 'Gave Auditor to the member.' }).waitFor();
    // The member now reads the compliance report, which their built-in role alone does not allow.
    expect((await member.call('GET', `/tenants/${tenantId}/compliance`)).status).toBe(200);
    expect(problems).toEqual([]);
    await page.close();

    const viewerPage = await newPage(viewer);
    await viewerPage.goto(`${info.consoleUrl}/t/${tenantId}/roles`);
    await viewerPage.getByRole('heading', { name: 'Auditor' }).waitFor();
    expect(
      await viewerPage.getByRole('button', { name: /^(Edit|Delete) Auditor$|^Create role$/ }).count(),
    ).toBe(0);
    expect(await viewerPage.getByRole('checkbox', { name: 'audit read' }).isDisabled()).toBe(true);
    await viewerPage.close();
  });

  it('filters the audit log by action and shows the matching records only', async () => {
    await invite(owner, tenantId, `audit-probe-${Date.now().toString(36)}@example.com`, 'viewer');
    const page = await newPage(owner);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/audit`);
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel(/^Action/).fill('members.invite');
    // The audit consumer writes records asynchronously: filter until the invitation is there.
    const actions = await eventually(
      async () => {
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.locator('table, p:has-text("No audit records match")').first().waitFor();
        return page.locator('tbody tr td:nth-child(2)').allTextContents();
      },
      // Three invitations (two members', the probe's), and only they: the filter applied.
      (found) => found.length >= 3 && found.every((action) => action === 'members.invite'),
    );
    expect(actions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(actions)).toEqual(new Set(['members.invite']));
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('a platform admin lists every tenant with status, plan, isolation and cluster, and changes a limit', async () => {
    const page = await newPage(admin);
    await page.getByRole('link', { name: 'All tenants' }).click();
    await page.getByRole('heading', { name: 'All tenants' }).waitFor();
    // Oldest first, and the suite's platform holds every suite's tenants: walk the pages to it.
    const row = page.getByRole('row').filter({ hasText: 'Console Admin Co' });
    for (let i = 0; i < 60; i++) {
      await page.getByRole('table').waitFor();
      if ((await row.count()) > 0) break;
      await page.getByRole('button', { name: 'Next page' }).click();
    }
    await expect.poll(() => row.locator('td').nth(4).textContent()).toBe('primary');
    expect(await row.locator('td').nth(1).textContent()).toBe('active');
    await row.getByRole('button', { name: 'Plan of Console Admin Co' }).click();
    await page.getByRole('heading', { name: 'Plan of Console Admin Co' }).waitFor();
    await page.getByRole('spinbutton', { name: 'Override of members' }).fill('7');
    await page.getByRole('button', { name: 'Save plan' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved the plan of Console Admin Co.' }).waitFor();
    const quotas = (await owner.call('GET', `/tenants/${tenantId}/quotas`)).body as {
      limits: { members: number };
    };
    expect(quotas.limits.members).toBe(7);
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();

    const ownerPage = await newPage(owner);
    expect(await ownerPage.getByRole('link', { name: 'All tenants' }).count()).toBe(0);
    await ownerPage.goto(`${info.consoleUrl}/platform/tenants`);
    await ownerPage.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await ownerPage.close();
    expect(problems).toEqual([]);
  }, 120_000);
});
