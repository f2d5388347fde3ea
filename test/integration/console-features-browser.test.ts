import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { csvToLines } from '#shared/exports/export-lines';
import { type Actor, addMember, eventually, newActor, newTenant } from '../support/actors.ts';
import { type Browser, launchBrowser, seriousViolations } from '../support/browser.ts';
import { signIn, watchPage } from '../support/console.ts';

/**
 * The console's settings, modules, usage and finance pages (issue 20) in Debian's Chromium
 * against the local platform: settings with the API's per-field messages, a module enabled once
 * its required settings are filled, the usage chart moving after requests, finance's CSV.
 */

const info = inject('platform');
const client = new LocalClient(info);

describe('the console: settings, modules, usage, finance', () => {
  let browser: Browser;
  let owner: Actor;
  let viewer: Actor;
  let finance: Actor;
  let tenantId: string;
  const problems: string[] = [];

  const newPage = async (as: Actor) => {
    const page = await browser.context.newPage();
    watchPage(page, problems);
    await signIn(page, info.consoleUrl, as.email);
    return page;
  };

  beforeAll(async () => {
    [owner, viewer, finance] = await Promise.all([
      newActor(client, 'cf-owner'),
      newActor(client, 'cf-viewer'),
      newActor(client, 'cf-finance', { groups: ['finance'] }),
    ]);
    ({ tenantId } = await newTenant(owner, 'Console Features Co'));
    await addMember(owner, tenantId, viewer, 'viewer');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    client.close();
  });

  it('enables a module once the settings it requires are filled, each API message on its field', async () => {
    const page = await newPage(owner);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/modules`);
    await page.getByRole('heading', { name: /^Billing/ }).waitFor();
    // Billing needs the address, company email and currency: its button is disabled, the gap named.
    expect(await page.getByRole('button', { name: 'Enable Billing' }).isDisabled()).toBe(true);
    expect(
      await page
        .getByText(/Missing settings: .*companyEmail/)
        .first()
        .textContent(),
    ).toContain('address');
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'fill them in the settings' }).first().click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('Company email').fill('billing@features.example');
    await page.getByLabel(/^Default currency/).fill('EUR');
    await page.getByLabel('Line 1').fill('1 Rue de la Paix');
    await page.getByLabel('City').fill('Paris');
    await page.getByLabel('Postal code').fill('75002');
    await page.getByLabel(/^Country/).fill('fr');
    await page.getByRole('button', { name: 'Save settings' }).click();
    // Lower-case is not ISO 3166 alpha-2: the API's message is on the country field, nothing saved.
    const country = page.getByLabel(/^Country/);
    await expect.poll(() => country.getAttribute('aria-invalid')).toBe('true');
    expect(
      await page.locator(`[id="${await country.getAttribute('aria-describedby')}"]`).textContent(),
    ).not.toBe('');
    const unsaved = await owner.call('GET', `/tenants/${tenantId}`);
    expect((unsaved.body as { settings: { companyEmail?: string } }).settings.companyEmail).toBeUndefined();
    expect(await seriousViolations(page)).toEqual([]);

    await country.fill('FR');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Settings saved.' }).waitFor();

    await page.getByRole('link', { name: 'Modules' }).click();
    const enable = page.getByRole('button', { name: 'Enable Billing' });
    await expect.poll(() => enable.isEnabled()).toBe(true);
    await enable.click();
    await page.getByRole('status').filter({ hasText: 'Billing is enabled' }).waitFor();
    await page.getByRole('button', { name: 'Disable Billing' }).waitFor();
    const modules = await owner.call('GET', `/tenants/${tenantId}/modules`);
    const billing = (modules.body as { items: { id: string; enabled: boolean }[] }).items.find(
      (m) => m.id === 'billing',
    );
    expect(billing?.enabled).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a viewer reads the settings and modules without a save or enable button', async () => {
    const page = await newPage(viewer);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/settings`);
    await page.getByText('Only owners and admins change settings').waitFor();
    expect(await page.getByRole('button', { name: 'Save settings' }).count()).toBe(0);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/modules`);
    await page.getByRole('heading', { name: /^CRM/ }).waitFor();
    expect(await page.getByRole('button', { name: /^(Enable|Disable) / }).count()).toBe(0);
    await page.close();
  });

  it("the usage chart moves: today's API calls grow after the tenant's requests", async () => {
    const page = await newPage(owner);
    const callsToday = async () => {
      await page.goto(`${info.consoleUrl}/t/${tenantId}/usage`);
      const canvas = page.getByRole('img', { name: /^API calls per day/ });
      await canvas.waitFor();
      const label = (await canvas.getAttribute('aria-label')) ?? '';
      return Number(/API calls (\d+) calls in all/.exec(label)?.[1] ?? Number.NaN);
    };
    const before = await callsToday();
    expect(Number.isFinite(before)).toBe(true);
    for (let i = 0; i < 5; i++)
      expect((await owner.call('GET', `/tenants/${tenantId}/members`)).status).toBe(200);
    // The usage consumer counts them asynchronously (EventBridge → SQS → DynamoDB rollups).
    const after = await eventually(callsToday, (n) => n >= before + 5, 20_000);
    expect(after).toBeGreaterThanOrEqual(before + 5);
    expect(await page.getByRole('img', { name: /^Latency per hour/ }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('finance downloads the month as a CSV that parses and holds the tenant; a tenant owner is not allowed', async () => {
    const page = await newPage(finance);
    await page.getByRole('link', { name: 'Finance' }).click();
    await page.getByRole('heading', { name: 'Finance' }).waitFor();
    const link = page.getByRole('link', { name: /^Download the CSV of/ });
    await link.waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const path = await download.path();
    const lines = csvToLines(await readFile(path, 'utf8'));
    const mine = lines.filter((line) => line.tenantId === tenantId);
    expect(mine.map((line) => line.resourceType)).toContain('api_calls');
    expect(mine.every((line) => line.tenantName === 'Console Features Co')).toBe(true);
    await page.getByRole('cell', { name: 'Console Features Co' }).first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();

    const ownerPage = await newPage(owner);
    expect(await ownerPage.getByRole('link', { name: 'Finance' }).count()).toBe(0);
    await ownerPage.goto(`${info.consoleUrl}/finance`);
    await ownerPage.getByRole('heading', { name: 'Not allowed' }).waitFor();
    await ownerPage.close();
    expect(problems).toEqual([]);
  });
});
