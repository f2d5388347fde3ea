import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { type Actor, addMember, newActor, newTenant } from '../support/actors.ts';
import { type Browser, launchBrowser, seriousViolations } from '../support/browser.ts';
import { signIn, watchPage } from '../support/console.ts';

/**
 * The console's data pages (issue 20; docs/console.md): databases, tables and the rows browser,
 * through the pages as a person uses them, against the local platform in Debian's Chromium, with
 * axe-core on each page. The tenants and users are made through the API; everything the journeys
 * check is done through the console.
 */

const info = inject('platform');
const client = new LocalClient(info);

async function expectAccessible(page: Page) {
  expect(await seriousViolations(page)).toEqual([]);
}

/** The message linked to a field by aria-describedby, once the field is marked invalid. */
async function fieldMessage(page: Page, field: Locator): Promise<string> {
  await expect.poll(() => field.getAttribute('aria-invalid')).toBe('true');
  const describedBy = (await field.getAttribute('aria-describedby')) ?? '';
  return (await page.locator(`[id="${describedBy}"]`).textContent()) ?? '';
}

const bodyRows = (page: Page) => page.locator('table.rows tbody tr');
const column = async (page: Page, index: number) =>
  bodyRows(page)
    .locator(`td:nth-child(${index + 1})`)
    .allTextContents();

describe('the console data pages in a browser', () => {
  let browser: Browser;
  const problems: string[] = [];
  let owner: Actor;
  let viewer: Actor;
  let stranger: Actor;
  let tenantId: string;
  let databaseId: string;

  const newPage = async () => {
    const page = await browser.context.newPage();
    watchPage(page, problems);
    return page;
  };
  const tablesUrl = () => `${info.consoleUrl}/t/${tenantId}/databases/${databaseId}/tables`;
  const api = (path: string) => `/tenants/${tenantId}/databases/${databaseId}/tables${path}`;

  beforeAll(async () => {
    browser = await launchBrowser();
    [owner, viewer, stranger] = await Promise.all([
      newActor(client, 'data-owner'),
      newActor(client, 'data-viewer'),
      newActor(client, 'data-stranger'),
    ]);
    ({ tenantId } = await newTenant(owner, `Console Data ${Date.now().toString(36)}`));
    await addMember(owner, tenantId, viewer, 'viewer');
    await newTenant(stranger, `Data Stranger ${Date.now().toString(36)}`);
    const databases = await owner.call('GET', `/tenants/${tenantId}/databases`);
    databaseId = (databases.body as { items: { id: string }[] }).items[0]?.id ?? '';
    // A table for the viewer and the stranger, made through the API.
    const made = await owner.call('POST', api(''), {
      name: 'parcels',
      columns: [{ name: 'label', type: 'text' }],
    });
    expect(made.status).toBe(201);
    expect((await owner.call('POST', api('/parcels/rows'), { label: 'parcel-1' })).status).toBe(201);
  });

  afterAll(async () => {
    await browser?.close();
    client.close();
  });

  it('an owner creates a typed table through the form, inserts, edits, sorts, filters, pages and deletes rows', async () => {
    const page = await newPage();
    await signIn(page, info.consoleUrl, owner.email);
    await page.goto(`${info.consoleUrl}/t/${tenantId}`);
    await page.getByRole('link', { name: 'Data' }).click();
    await page.getByRole('heading', { name: 'Databases', level: 1 }).waitFor();
    await expect.poll(() => page.locator('table .status').first().textContent()).toBe('active');
    await expectAccessible(page);
    await page.locator('table a').first().click();
    await page.getByRole('heading', { name: 'Tables', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'parcels' }).waitFor();

    // An invalid column name: the API's message, on that column's field, which takes focus.
    await page.getByLabel('Table name').fill('orders');
    const first = page.getByRole('group', { name: 'Column 1' });
    await first.getByLabel('Name').fill('Bad Name');
    await page.getByRole('button', { name: 'Create table' }).click();
    expect(await fieldMessage(page, first.getByLabel('Name'))).toMatch(/lower-case letter/);
    expect(await first.getByLabel('Name').evaluate((el) => el.matches(':focus'))).toBe(true);
    expect(await page.getByLabel('Table name').getAttribute('aria-invalid')).toBe('false');
    await expectAccessible(page);

    await first.getByLabel('Name').fill('reference');
    await first.getByLabel('Nullable').uncheck();
    await first.getByLabel('Unique').check();
    await page.getByRole('button', { name: 'Add column' }).click();
    const second = page.getByRole('group', { name: 'Column 2' });
    expect(await second.getByLabel('Name').evaluate((el) => el.matches(':focus'))).toBe(true);
    await second.getByLabel('Name').fill('quantity');
    await second.getByLabel('Type').selectOption('integer');
    await page.getByRole('button', { name: 'Add column' }).click();
    const third = page.getByRole('group', { name: 'Column 3' });
    await third.getByLabel('Name').fill('paid');
    await third.getByLabel('Type').selectOption('boolean');
    await page.getByRole('button', { name: 'Create table' }).click();
    await page.getByRole('status').filter({ hasText: 'Created table orders.' }).waitFor();
    const described = await owner.call('GET', api('/orders'));
    expect(
      (described.body as { columns: { name: string; type: string; nullable: boolean; unique: boolean }[] })
        .columns,
    ).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'reference', type: 'text', nullable: false, unique: true }),
        expect.objectContaining({ name: 'quantity', type: 'integer', nullable: true }),
        expect.objectContaining({ name: 'paid', type: 'boolean' }),
      ]),
    );

    // The rows browser.
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByRole('heading', { name: 'orders', level: 1 }).waitFor();
    await page.getByRole('cell', { name: 'No rows.' }).waitFor();
    const insertForm = page.getByRole('form', { name: 'Insert a row' });
    // A required column left empty: the API's message on its field.
    await insertForm.getByRole('button', { name: 'Insert row' }).click();
    expect(await fieldMessage(page, insertForm.getByLabel(/^reference/))).not.toBe('');
    await expectAccessible(page);
    await insertForm.getByLabel(/^reference/).fill('A-1');
    await insertForm.getByLabel(/^quantity/).fill('3');
    await insertForm.getByLabel(/^paid/).check();
    await insertForm.getByRole('button', { name: 'Insert row' }).click();
    await page.getByRole('status').filter({ hasText: 'Inserted row' }).waitFor();
    await page.getByRole('cell', { name: 'A-1', exact: true }).waitFor();
    expect(await insertForm.getByLabel(/^reference/).inputValue()).toBe('');
    await insertForm.getByLabel(/^reference/).fill('B-2');
    await insertForm.getByLabel(/^quantity/).fill('1');
    await insertForm.getByRole('button', { name: 'Insert row' }).click();
    await page.getByRole('cell', { name: 'B-2', exact: true }).waitFor();
    const columns = (await page.getByRole('columnheader').allTextContents()).map((t) =>
      t.replace(/[▲▼]/g, '').trim(),
    );
    const at = (name: string) => columns.indexOf(name);
    expect(await column(page, at('paid'))).toEqual(['true', 'false']);

    // Edit: the form opens with the row's values and takes focus; only the change is sent.
    await bodyRows(page).filter({ hasText: 'A-1' }).getByRole('button', { name: /^Edit/ }).click();
    const editForm = page.getByRole('form', { name: /^Edit row/ });
    await expect.poll(() => page.locator(':focus').textContent()).toMatch(/^Edit row/);
    expect(await editForm.getByLabel(/^quantity/).inputValue()).toBe('3');
    await editForm.getByLabel(/^quantity/).fill('7');
    await editForm.getByRole('button', { name: 'Save row' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved row' }).waitFor();
    await expect
      .poll(() =>
        bodyRows(page)
          .filter({ hasText: 'A-1' })
          .locator(`td:nth-child(${at('quantity') + 1})`)
          .textContent(),
      )
      .toBe('7');
    expect(await editForm.count()).toBe(0);

    // Sort: a header's button, ascending then descending, with aria-sort on the header.
    const quantityHeader = page.getByRole('columnheader', { name: 'quantity' });
    await quantityHeader.getByRole('button').click();
    await expect.poll(() => quantityHeader.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(() => column(page, at('reference'))).toEqual(['B-2', 'A-1']);
    await quantityHeader.getByRole('button').click();
    await expect.poll(() => quantityHeader.getAttribute('aria-sort')).toBe('descending');
    await expect.poll(() => column(page, at('reference'))).toEqual(['A-1', 'B-2']);
    expect(await page.getByRole('columnheader', { name: 'created_at' }).getAttribute('aria-sort')).toBeNull();
    await expectAccessible(page);

    // Filter: the builder writes filter[column][operator]=value; the API's refusal is on the filter.
    const filterForm = page.getByRole('form', { name: 'Add a filter' });
    await filterForm.getByLabel('Column').selectOption('quantity');
    await filterForm.getByLabel('Operator').selectOption('eq');
    await filterForm.getByLabel('Value').fill('many');
    await filterForm.getByRole('button', { name: 'Add filter' }).click();
    await page.getByRole('alert').filter({ hasText: 'quantity: must be an integer' }).waitFor();
    await page.getByRole('button', { name: 'Remove filter quantity equals many' }).click();
    await filterForm.getByLabel('Column').selectOption('reference');
    await filterForm.getByLabel('Operator').selectOption('like');
    await filterForm.getByLabel('Value').fill('B%');
    await filterForm.getByRole('button', { name: 'Add filter' }).click();
    await expect.poll(() => column(page, at('reference'))).toEqual(['B-2']);
    // The view is in the URL: a reload (or a shared link) shows the same sort and filter.
    expect(new URL(page.url()).searchParams.getAll('f')).toEqual(['reference:like:B%']);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('-quantity');
    await page.reload();
    await expect.poll(() => column(page, at('reference'))).toEqual(['B-2']);
    await expect.poll(() => quantityHeader.getAttribute('aria-sort')).toBe('descending');
    await expectAccessible(page);
    await page.getByRole('button', { name: /^Remove filter reference/ }).click();
    await expect.poll(() => bodyRows(page).count()).toBe(2);

    // Keyset pages of 5 over 8 rows, in the order of the sort (quantity, descending).
    const more = Array.from({ length: 6 }, (_, i) => ({ reference: `C-${i}`, quantity: 100 + i }));
    expect((await owner.call('POST', api('/orders/rows/batch'), { rows: more })).status).toBe(201);
    await page.getByLabel('Rows a page').selectOption('5');
    await expect.poll(() => column(page, at('reference'))).toEqual(['C-5', 'C-4', 'C-3', 'C-2', 'C-1']);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => column(page, at('reference'))).toEqual(['C-0', 'A-1', 'B-2']);
    expect(await page.getByRole('button', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('button', { name: 'First page' }).click();
    await expect.poll(() => bodyRows(page).count()).toBe(5);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('cell', { name: 'B-2', exact: true }).waitFor();

    // Delete, after the browser's confirmation.
    page.once('dialog', (dialog) => void dialog.accept());
    await bodyRows(page)
      .filter({ hasText: 'B-2' })
      .getByRole('button', { name: /^Delete/ })
      .click();
    await page.getByRole('status').filter({ hasText: 'Deleted row' }).waitFor();
    await expect.poll(() => column(page, at('reference'))).toEqual(['C-0', 'A-1']);
    const left = await owner.call('GET', api('/orders/rows?filter[reference][eq]=B-2'));
    expect((left.body as { items: unknown[] }).items).toEqual([]);

    // At phone width the table stacks, each cell named by its column.
    await page.setViewportSize({ width: 375, height: 800 });
    await expectAccessible(page);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a viewer sees the databases, tables and rows, and no write controls', async () => {
    const page = await newPage();
    await signIn(page, info.consoleUrl, viewer.email);
    await page.goto(`${info.consoleUrl}/t/${tenantId}/databases`);
    await page.locator('table a').first().waitFor();
    await expectAccessible(page);
    await page.goto(tablesUrl());
    await page.getByRole('link', { name: 'parcels' }).waitFor();
    expect(await page.getByRole('heading', { name: 'New table' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Create table' }).count()).toBe(0);
    await expectAccessible(page);
    await page.getByRole('link', { name: 'parcels' }).click();
    await page.getByRole('cell', { name: 'parcel-1', exact: true }).waitFor();
    expect(await page.getByRole('form', { name: 'Insert a row' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Edit|Delete|Insert)/ }).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    // Reading is allowed: sort and filter are there.
    await page.getByRole('form', { name: 'Add a filter' }).waitFor();
    await expectAccessible(page);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("a member of another tenant opening this tenant's data pages is told 'Not found'", async () => {
    const page = await newPage();
    await signIn(page, info.consoleUrl, stranger.email);
    for (const path of [
      `/t/${tenantId}/databases`,
      `/t/${tenantId}/databases/${databaseId}/tables`,
      `/t/${tenantId}/databases/${databaseId}/tables/parcels`,
    ]) {
      await page.goto(`${info.consoleUrl}${path}`);
      await page.getByRole('heading', { name: 'Not found' }).first().waitFor();
      expect(await page.getByText('parcel-1').count()).toBe(0);
      expect(await page.getByRole('link', { name: 'parcels' }).count()).toBe(0);
      await expectAccessible(page);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
