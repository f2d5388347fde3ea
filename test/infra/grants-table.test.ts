import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOC_PATH, grantsTable, TABLE_END, TABLE_START, withTable } from '#infra/local/grants-table';
import { synthesizeAssembly } from '#infra/local/iam/cloud-assembly';
import type { CloudAssemblyTemplates } from '#infra/local/iam/template-policies';

/*
 * docs/identity-and-access.md carries the table of functions and their grants generated from the
 * synthesized templates. It is never edited by hand: `npm run docs:grants` rewrites it, and this
 * test fails when the checked-in table is not the one the templates give.
 */
describe('the generated table of functions and grants', () => {
  let assembly: CloudAssemblyTemplates;
  let document: string;

  beforeAll(async () => {
    assembly = await synthesizeAssembly({ stage: 'dev' });
    document = await readFile(DOC_PATH, 'utf8');
  });

  it('is the checked-in one (run `npm run docs:grants` after changing a need or a grant)', () => {
    const table = grantsTable(assembly);
    const start = document.indexOf(TABLE_START);
    const end = document.indexOf(TABLE_END) + TABLE_END.length;
    expect(start).toBeGreaterThan(0);
    expect(document.slice(start, end)).toBe(table);
  });

  it('lists the route, trigger, step, consumer and job functions with their needs', () => {
    const table = grantsTable(assembly);
    expect(table).toContain('| `platform/get-health` | — | — | — |');
    expect(table).toMatch(/\| `rows\/list-rows` \| controlDb, tenantData, telemetry, rateLimits, plans \|/);
    expect(table).toMatch(/sts:AssumeRole, sts:TagSession on `.*TenantAccessRole/);
    // A changed table changes the document: the check above can fail.
    expect(withTable(document, `${TABLE_START}\nx\n${TABLE_END}`)).not.toBe(document);
  });
});
