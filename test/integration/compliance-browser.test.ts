import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, newActor, newTenant } from '../support/actors.ts';
import { type Browser, launchBrowser } from '../support/browser.ts';
import { expectStatus } from '../support/tenancy.ts';

/**
 * The compliance report's HTML, as an auditor's browser renders it: Debian's Chromium (never a
 * downloaded browser), headless, on a fresh profile, loading the page the local platform serves
 * with its real headers (the CSP among them). `.ci/run` installs the package.
 */

const info = inject('platform');
const client = new LocalClient(info);

describe('the compliance report in a browser', () => {
  let owner: Actor;
  let tenantId: string;
  let launched: Browser;
  let browser: BrowserContext;
  const scriptsRun: string[] = [];

  beforeAll(async () => {
    owner = await newActor(client, 'cmp-browser');
    ({ tenantId } = await newTenant(owner));
    // A name that would run a script if the page did not escape it.
    expectStatus(
      await owner.call('PATCH', `/tenants/${tenantId}`, {
        name: 'Acme <script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">',
      }),
      200,
    );
    launched = await launchBrowser({ extraHTTPHeaders: { authorization: `Bearer ${owner.token}` } });
    browser = launched.context;
  });

  afterAll(async () => {
    await launched?.close();
    client.close();
  });

  it('renders every check with its status and evidence, applies its own style, and runs nothing injected', async () => {
    // Arrange
    const report = expectStatus(await owner.call('GET', `/tenants/${tenantId}/compliance`), 200).body as {
      checks: { id: string; title: string; status: string; evidence: string }[];
    };
    const page = await browser.newPage();
    page.on('dialog', (dialog) => {
      scriptsRun.push(dialog.message());
      void dialog.dismiss();
    });
    // Act
    const response = await page.goto(
      new URL(`/tenants/${tenantId}/compliance?format=html`, info.apiUrl).href,
    );
    // Assert
    expect(response?.status()).toBe(200);
    expect(await page.title()).toContain('Acme <script>');
    expect(report.checks.length).toBe(8);
    for (const check of report.checks) {
      const row = page.locator(`tr[data-check-id="${check.id}"]`);
      await expect.poll(() => row.count()).toBe(1);
      const cells = await row.locator('td').allInnerTexts();
      expect(cells[0]).toBe(check.title);
      expect(cells[1]?.toLowerCase()).toBe(check.status);
      expect(cells[2]).toBe(check.evidence);
    }
    // The style sheet, allowed by its hash, applies: a failing status is red.
    const failing = page.locator('tr.fail .status').first();
    expect(await failing.count()).toBe(1);
    // The callbacks run in the page: its globals, which this file's Node types do not declare.
    expect(
      await failing.evaluate(
        (el) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { color: string } }).getComputedStyle(el)
            .color,
      ),
    ).toBe('rgb(176, 0, 32)');
    // The hostile name is text: no script ran, no image was made of it.
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('h1').textContent()).toContain('<img src=x');
    expect(scriptsRun).toEqual([]);
    await page.close();
  });
});
