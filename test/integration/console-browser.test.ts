import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { LOCAL_OUTBOX_FILE } from '#infra/local/platform-info';
import { type Actor, addMember, eventually, newActor, newTenant, PASSWORD } from '../support/actors.ts';
import { type Browser, launchBrowser, seriousViolations } from '../support/browser.ts';
import { signIn, watchPage } from '../support/console.ts';

/**
 * The console (web/, issue 20) against the local platform, in Debian's Chromium: the journeys of
 * docs/console.md, through the pages as a person uses them (labels and roles, not test ids where a
 * label says it), and axe-core on each page. Every API call the pages make is a CORS request from
 * the console's origin to the API's, as in AWS.
 */

const info = inject('platform');
const client = new LocalClient(info);

/** The code the local Cognito "emailed" to `email` (the outbox; no email is sent). */
async function codeFor(email: string): Promise<string> {
  const file = path.join(info.stateDir, LOCAL_OUTBOX_FILE);
  const code = await eventually(
    async () => {
      const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      const mine = lines
        .map((l) => JSON.parse(l) as { to: string; code: string })
        .filter((m) => m.to === email);
      return mine.at(-1)?.code;
    },
    (found) => found !== undefined,
  );
  if (!code) throw new Error(`no code was sent to ${email}`);
  return code;
}

async function expectAccessible(page: Page) {
  expect(await seriousViolations(page)).toEqual([]);
}

describe('the console in a browser', () => {
  let browser: Browser;
  const problems: string[] = [];

  const newPage = async () => {
    const page = await browser.context.newPage();
    watchPage(page, problems);
    return page;
  };

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    client.close();
  });

  it('serves the app with its runtime config and the same security headers as CloudFront', async () => {
    const response = await fetch(`${info.consoleUrl}/t/anything/members`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<div id="root">');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(new URL(info.apiUrl).origin);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const config = (await (await fetch(`${info.consoleUrl}/config.json`)).json()) as Record<string, string>;
    expect(config).toMatchObject({
      apiUrl: info.apiUrl,
      userPoolId: info.userPoolId,
      clientId: info.clientId,
    });
    // The API allows the console's origin only (a preflight from elsewhere gets no CORS headers).
    const preflight = (origin: string) =>
      fetch(`${info.apiUrl}/me`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(new URL(info.consoleUrl).origin);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(new URL(info.consoleUrl).origin);
    expect(allowed.headers.get('access-control-allow-headers')).toContain('authorization');
    const refused = await preflight('https://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sign up → the tenant is provisioned → invite a member, with the API validation shown on the field', async () => {
    const page = await newPage();
    const email = `console-${Date.now().toString(36)}@example.com`;
    await page.goto(info.consoleUrl);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Sign up' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel(/^Password/).fill(PASSWORD);
    await page.getByLabel(/organisation's name/).fill('Console Journey Ltd');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
    // A wrong code is refused with Cognito's reason, and nothing is confirmed.
    await page.getByLabel('Confirmation code').fill('000000');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('code is not right');
    await page.getByLabel('Confirmation code').fill(await codeFor(email));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Your tenants' }).waitFor();

    // The post-confirmation trigger registered the tenant; the overview follows its provisioning.
    await page.getByRole('link', { name: 'Console Journey Ltd' }).click({ timeout: 15_000 });
    await page.getByRole('heading', { name: 'Console Journey Ltd' }).waitFor();
    await expect
      .poll(() => page.getByTestId('tenant-status').textContent(), { timeout: 30_000 })
      .toBe('active');
    await expect.poll(() => page.locator('ol.steps li').count()).toBeGreaterThan(2);
    await expectAccessible(page);

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'Members', level: 1 }).waitFor();
    await page.getByRole('cell', { name: email, exact: true }).waitFor();
    // The API's per-field message, on the field.
    await page.getByLabel('Email', { exact: true }).fill('not-an-email');
    await page.getByRole('button', { name: 'Invite' }).click();
    const field = page.getByLabel('Email', { exact: true });
    await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toMatch(/email/i);
    await expectAccessible(page);

    const invitee = `invitee-${Date.now().toString(36)}@example.com`;
    await field.fill(invitee);
    await page.getByLabel('Role', { exact: true }).selectOption('viewer');
    await page.getByRole('button', { name: 'Invite' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Invited ${invitee}` })
      .waitFor();
    await page.getByRole('cell', { name: invitee, exact: true }).waitFor();
    expect(await page.getByRole('cell', { name: invitee, exact: true }).count()).toBe(1);
    // The README's screenshot: always taken (into a temp folder, checked to be a PNG); written to
    // docs/ only when asked: TENANTRY_SCREENSHOT_DIR=docs npx vitest run test/integration/console-browser.test.ts
    await page.setViewportSize({ width: 1100, height: 700 });
    const shot = await page.screenshot({ fullPage: false });
    expect(shot.subarray(1, 4).toString('latin1')).toBe('PNG');
    const shotDir = process.env.TENANTRY_SCREENSHOT_DIR;
    if (shotDir) await writeFile(path.join(shotDir, 'console.png'), shot);
    expect(problems).toEqual([]);
    await page.close();
  });

  describe('who sees what', () => {
    let owner: Actor;
    let viewer: Actor;
    let stranger: Actor;
    let tenantId: string;

    beforeAll(async () => {
      [owner, viewer, stranger] = await Promise.all([
        newActor(client, 'console-owner'),
        newActor(client, 'console-viewer'),
        newActor(client, 'console-stranger'),
      ]);
      ({ tenantId } = await newTenant(owner, 'Console Roles Co'));
      await addMember(owner, tenantId, viewer, 'viewer');
      await newTenant(stranger, 'Stranger Co');
    });

    it('a viewer sees the members read-only: no invite form, no role selects, no remove buttons', async () => {
      const page = await newPage();
      await signIn(page, info.consoleUrl, viewer.email);
      await page.goto(`${info.consoleUrl}/t/${tenantId}/members`);
      await page.getByRole('cell', { name: owner.email, exact: true }).waitFor();
      expect(await page.getByRole('button', { name: 'Invite' }).count()).toBe(0);
      expect(await page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
      expect(await page.getByRole('combobox', { name: /^Role of/ }).count()).toBe(0);
      await expectAccessible(page);
      // The owner, on the same page, has them.
      const ownerPage = await newPage();
      await signIn(ownerPage, info.consoleUrl, owner.email);
      await ownerPage.goto(`${info.consoleUrl}/t/${tenantId}/members`);
      await ownerPage.getByRole('combobox', { name: `Role of ${viewer.email}` }).waitFor();
      expect(await ownerPage.getByRole('button', { name: `Remove ${viewer.email}` }).count()).toBe(1);
      await page.close();
      await ownerPage.close();
    });

    it("a member of another tenant opening this tenant's pages is told 'Not found', not shown a blank page", async () => {
      const page = await newPage();
      await signIn(page, info.consoleUrl, stranger.email);
      for (const path of [`/t/${tenantId}`, `/t/${tenantId}/members`]) {
        await page.goto(`${info.consoleUrl}${path}`);
        await page.getByRole('heading', { name: 'Not found' }).first().waitFor();
        expect(await page.getByText(owner.email).count()).toBe(0);
        expect(await page.getByText('Console Roles Co').count()).toBe(0);
      }
      await expectAccessible(page);
      await page.close();
      expect(problems).toEqual([]);
    });

    it('works from the keyboard (the skip link first, then the main content) and at phone width without sideways scrolling', async () => {
      const page = await newPage();
      await signIn(page, info.consoleUrl, owner.email);
      await page.goto(`${info.consoleUrl}/t/${tenantId}/members`);
      await page.getByRole('cell', { name: owner.email, exact: true }).waitFor();
      await page.keyboard.press('Tab');
      // Expressions run in the page (this project's TypeScript has no DOM library).
      expect(await page.locator(':focus').textContent()).toBe('Skip to content');
      await page.keyboard.press('Enter');
      expect(await page.locator(':focus').getAttribute('id')).toBe('main');
      // Tab on reaches the invite form's fields by their labels.
      const focusedLabels: string[] = [];
      for (let i = 0; i < 40 && !focusedLabels.includes('Email'); i++) {
        await page.keyboard.press('Tab');
        focusedLabels.push(
          String(
            await page.evaluate(
              "(() => { const el = document.activeElement; return el?.labels?.[0]?.textContent ?? el?.getAttribute('aria-label') ?? el?.textContent ?? ''; })()",
            ),
          ),
        );
      }
      expect(focusedLabels).toContain('Email');

      await page.setViewportSize({ width: 375, height: 812 });
      for (const path of [`/t/${tenantId}/members`, `/t/${tenantId}`, '/tenants']) {
        await page.goto(`${info.consoleUrl}${path}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        const overflow = Number(
          await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
        );
        expect(overflow, path).toBeLessThanOrEqual(0);
        expect(await seriousViolations(page)).toEqual([]);
      }
      await page.close();
    });

    it('the tenant switcher makes a tenant active (PUT /me/active-tenant) and opens it', async () => {
      const page = await newPage();
      await signIn(page, info.consoleUrl, owner.email);
      await page.getByLabel('Tenant', { exact: true }).selectOption({ label: 'Console Roles Co' });
      await page.getByRole('heading', { name: 'Console Roles Co' }).waitFor();
      expect(page.url()).toBe(`${info.consoleUrl}/t/${tenantId}`);
      const me = await owner.call('GET', '/me');
      expect((me.body as { activeTenantId: string }).activeTenantId).toBe(tenantId);
      await page.close();
    });
  });
});
