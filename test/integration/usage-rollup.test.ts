import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordsHandler } from '#shared/composition/record-consumers';
import { UsageRecorded } from '#shared/events/events';
import { parseCsv } from '#shared/exports/csv';
import { AuditStore } from '#shared/records/audit-store';
import { RecordBatchWriter } from '#shared/records/record-batch';
import { type Actor, addMember, clientFor, eventually, newActor, newTenant } from '../support/actors.ts';
import { busEvent, deliverUntilDone } from '../support/record-batches.ts';
import { expectStatus } from '../support/tenancy.ts';

/*
 * Tenant hierarchies (issue 16), the roll-ups: GET …/usage?include=descendants sums a subtree, the
 * finance export names every line's parent and root and, with rollup=root, sums each root's
 * subtree. Every roll-up is checked against the sum of the lines it rolls up.
 */

const info = inject('platform');
const client = clientFor(info);
const dynamo = new DynamoDBClient({
  region: info.region,
  endpoint: info.endpoints.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const writer = new RecordBatchWriter(dynamo, {
  usageTable: info.tables.usage,
  audit: new AuditStore(dynamo, info.tables.audit, 400),
});
const records = recordsHandler(() => writer);

afterAll(() => {
  client.close();
  dynamo.destroy();
});

interface UsageItem {
  period: string;
  resourceType: string;
  quantity: number;
  unit: string;
}
interface UsageBody {
  tenantId: string;
  tenants?: string[];
  items: UsageItem[];
}
interface Line {
  tenantId: string;
  tenantName: string;
  month: string;
  resourceType: string;
  quantity: number;
  parentId: string | null;
  rootId: string | null;
}

/** Records usage through the records consumer, as the queue would deliver it (each once, for sure). */
async function recordUsage(tenantId: string, at: string, quantity: number, resourceType: string) {
  const detail = {
    tenantId,
    resourceType,
    quantity,
    unit: resourceType === 'storage_bytes' ? 'bytes' : 'count',
    at,
  };
  expect(await deliverUntilDone(records, [busEvent(UsageRecorded, detail)])).toEqual([]);
}

/** Per period and resource type, the sum of several answers' items. */
function summed(answers: readonly UsageBody[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of answers.flatMap((answer) => answer.items)) {
    const key = `${item.period} ${item.resourceType}`;
    out[key] = (out[key] ?? 0) + item.quantity;
  }
  return out;
}
const asMap = (body: UsageBody) => summed([body]);

/** Per root, month and resource type, the sum of the default export's lines. */
function byRoot(lines: readonly Line[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of lines) {
    const key = `${line.rootId} ${line.month} ${line.resourceType}`;
    out[key] = (out[key] ?? 0) + line.quantity;
  }
  return out;
}
const rootLines = (lines: readonly Line[]) =>
  Object.fromEntries(
    lines.map((line) => [`${line.tenantId} ${line.month} ${line.resourceType}`, line.quantity]),
  );

describe('usage roll-ups of tenant hierarchies', () => {
  let owner: Actor;
  let rootAdmin: Actor;
  let childMember: Actor;
  let finance: Actor;
  // root ─┬─ childA ── grandchild (inheritAccess: false)
  //       └─ childB (offboarded)
  let root: string;
  let childA: string;
  let childB: string;
  let grandchild: string;
  let subtree: string[];

  beforeAll(async () => {
    [owner, rootAdmin, childMember, finance] = await Promise.all([
      newActor(client, 'rollup-owner'),
      newActor(client, 'rollup-root-admin'),
      newActor(client, 'rollup-child-member'),
      newActor(client, 'rollup-finance', { groups: ['finance'] }),
    ]);
    root = (await newTenant(owner, 'Rollup Org')).tenantId;
    childA = (await newTenant(owner, 'Rollup Unit A', { parentId: root })).tenantId;
    childB = (await newTenant(owner, 'Rollup Unit B', { parentId: root })).tenantId;
    grandchild = (await newTenant(owner, 'Rollup Team', { parentId: childA })).tenantId;
    subtree = [root, childA, childB, grandchild];
    await addMember(owner, root, rootAdmin, 'admin');
    await addMember(owner, childA, childMember, 'admin');
    // The grandchild keeps its ancestors' admins out; its usage is still the organisation's.
    expectStatus(await owner.call('PATCH', `/tenants/${grandchild}`, { inheritAccess: false }), 200);

    // Usage in April 2019 (no other test writes there): some in each tenant, counters and a gauge.
    const seeds = [
      [root, '2019-04-01T10:00:00.000Z', 2, 'api_calls'],
      [root, '2019-04-02T10:00:00.000Z', 3, 'rows_written'],
      [childA, '2019-04-01T11:00:00.000Z', 5, 'api_calls'],
      [childA, '2019-04-03T11:00:00.000Z', 7, 'api_calls'],
      [childA, '2019-04-01T12:00:00.000Z', 1_000, 'storage_bytes'],
      [childA, '2019-04-02T12:00:00.000Z', 3_000, 'storage_bytes'],
      [childB, '2019-04-02T09:00:00.000Z', 11, 'api_calls'],
      [childB, '2019-04-02T13:00:00.000Z', 500, 'storage_bytes'],
      [grandchild, '2019-04-01T08:00:00.000Z', 13, 'api_calls'],
      [grandchild, '2019-04-30T23:59:59.999Z', 17, 'rows_written'],
      // May: outside the range asked for.
      [grandchild, '2019-05-01T00:00:00.000Z', 1_000_000, 'api_calls'],
    ] as const;
    for (const [tenantId, at, quantity, type] of seeds) await recordUsage(tenantId, at, quantity, type);

    // Child B is offboarded: its past usage still rolls up into the organisation's.
    expect((await owner.call('DELETE', `/tenants/${childB}`)).status).toBe(202);
    const gone = await eventually(
      () => owner.call('GET', `/tenants/${childB}`),
      (response) => response.status === 404,
      60_000,
    );
    expect(gone.status).toBe(404);
  }, 180_000);

  const april = 'from=2019-04-01&to=2019-04-30';

  it('sums the subtree per day and month: equal to the sum of each tenant’s own usage', async () => {
    for (const granularity of ['day', 'month']) {
      // Act
      const rolled = expectStatus(
        await owner.call(
          'GET',
          `/tenants/${root}/usage?${april}&granularity=${granularity}&include=descendants`,
        ),
        200,
      ).body as UsageBody;
      // Each tenant's own answer; child B's own route is a 404 since its offboarding, so its own
      // usage is the one recorded above.
      const own = await Promise.all(
        [root, childA, grandchild].map(
          async (tenantId) =>
            expectStatus(
              await owner.call('GET', `/tenants/${tenantId}/usage?${april}&granularity=${granularity}`),
              200,
            ).body as UsageBody,
        ),
      );
      // Assert
      expect(rolled.tenants).toEqual([root, ...[childA, childB].sort(), grandchild]);
      const childBOwn =
        granularity === 'day'
          ? { '2019-04-02 api_calls': 11, '2019-04-02 storage_bytes': 500 }
          : { '2019-04 api_calls': 11, '2019-04 storage_bytes': 500 };
      const expected = summed(own);
      for (const [key, quantity] of Object.entries(childBOwn))
        expected[key] = (expected[key] ?? 0) + quantity;
      expect(asMap(rolled)).toEqual(expected);
    }
    const month = expectStatus(
      await owner.call('GET', `/tenants/${root}/usage?${april}&granularity=month&include=descendants`),
      200,
    ).body as UsageBody;
    expect(month.items).toEqual([
      { period: '2019-04', resourceType: 'api_calls', quantity: 2 + 5 + 7 + 11 + 13, unit: 'count' },
      { period: '2019-04', resourceType: 'rows_written', quantity: 3 + 17, unit: 'count' },
      // Gauges: the sum of each tenant's peak (child A 3,000, child B 500).
      { period: '2019-04', resourceType: 'storage_bytes', quantity: 3_500, unit: 'bytes' },
    ]);
    // Without include: the tenant's own usage, as before.
    const alone = expectStatus(
      await owner.call('GET', `/tenants/${root}/usage?${april}&granularity=month`),
      200,
    ).body as UsageBody;
    expect(alone.tenants).toBeUndefined();
    expect(asMap(alone)).toEqual({ '2019-04 api_calls': 2, '2019-04 rows_written': 3 });
    // A resource type filter applies to every tenant of the subtree.
    const rows = expectStatus(
      await owner.call(
        'GET',
        `/tenants/${root}/usage?${april}&granularity=month&resourceType=rows_written&include=descendants`,
      ),
      200,
    ).body as UsageBody;
    expect(asMap(rows)).toEqual({ '2019-04 rows_written': 20 });
  });

  it('rolls up real calls: the subtree’s api_calls lie between the tenants’ sums read before and after', async () => {
    // Arrange: some calls in each live tenant; the consumer records them asynchronously.
    for (const tenantId of [root, childA, grandchild]) {
      for (let i = 0; i < 3; i++) expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200);
    }
    const month = new Date().toISOString().slice(0, 7);
    // Finance's export is no tenant's call (nothing is metered for reading it).
    const callsOf = async () => {
      const body = expectStatus(await finance.call('GET', `/usage/exports?month=${month}&format=json`), 200)
        .body as { lines: Line[] };
      return body.lines
        .filter((line) => subtree.includes(line.tenantId) && line.resourceType === 'api_calls')
        .reduce((total, line) => total + line.quantity, 0);
    };
    await eventually(callsOf, (calls) => calls >= 9);
    const today = new Date().toISOString().slice(0, 10);
    // Act: reads before and after the roll-up bound it, whatever the consumer delivers meanwhile.
    const before = await callsOf();
    const rolled = expectStatus(
      await owner.call(
        'GET',
        `/tenants/${root}/usage?from=${month}-01&to=${today}&granularity=month&resourceType=api_calls&include=descendants`,
      ),
      200,
    ).body as UsageBody;
    const after = await callsOf();
    // Assert
    const quantity = rolled.items[0]?.quantity ?? 0;
    expect(before).toBeGreaterThanOrEqual(9);
    expect(quantity).toBeGreaterThanOrEqual(before);
    expect(quantity).toBeLessThanOrEqual(after);
  });

  it('BFLA: nothing flows upward or sideways; a descendant that refuses inherited access still rolls up', async () => {
    // A member of child A alone: the parent's usage is a 404, with or without include.
    for (const query of ['', '&include=descendants']) {
      const refused = await childMember.call('GET', `/tenants/${root}/usage?${april}${query}`);
      expect(refused.status).toBe(404);
      expect(JSON.stringify(refused.body)).not.toContain('2019-04');
    }
    // Child A's roll-up holds child A and its grandchild: not its parent, not its sibling.
    const own = expectStatus(
      await childMember.call(
        'GET',
        `/tenants/${childA}/usage?${april}&granularity=month&include=descendants`,
      ),
      200,
    ).body as UsageBody;
    expect(own.tenants).toEqual([childA, grandchild]);
    expect(asMap(own)).toEqual({
      '2019-04 api_calls': 5 + 7 + 13,
      '2019-04 rows_written': 17,
      '2019-04 storage_bytes': 3_000,
    });
    // The root's admin cannot read the grandchild (inheritAccess: false), yet the root's roll-up,
    // which needs usage:read in the root only, counts it (docs/audit-usage.md).
    expect((await rootAdmin.call('GET', `/tenants/${grandchild}/usage?${april}`)).status).toBe(404);
    const org = expectStatus(
      await rootAdmin.call('GET', `/tenants/${root}/usage?${april}&granularity=month&include=descendants`),
      200,
    ).body as UsageBody;
    expect(org.tenants).toContain(grandchild);
    expect(asMap(org)['2019-04 rows_written']).toBe(20);
  });

  it('finance: every line names its parent and root, and each rollup=root line is the sum of its subtree’s lines', async () => {
    // Act: April 2019 open, then closed (the archive gains the columns), in both formats.
    for (const state of ['open', 'closed'] as const) {
      if (state === 'closed') expectStatus(await finance.call('POST', '/usage/exports/2019-04/close'), 200);
      const tenantLines = expectStatus(
        await finance.call('GET', '/usage/exports?month=2019-04&format=json'),
        200,
      );
      const rootAnswer = expectStatus(
        await finance.call('GET', '/usage/exports?month=2019-04&format=json&rollup=root'),
        200,
      );
      const csv = expectStatus(await finance.call('GET', '/usage/exports?month=2019-04&rollup=root'), 200);
      // Assert
      expect(tenantLines.headers.get('x-tenantry-export-status')).toBe(state);
      const lines = (tenantLines.body as { lines: Line[] }).lines;
      const mine = lines.filter((line) => subtree.includes(line.tenantId));
      expect(
        Object.fromEntries(
          mine.map((line) => [`${line.tenantId} ${line.resourceType}`, [line.parentId, line.rootId]]),
        ),
      ).toEqual({
        [`${root} api_calls`]: [null, root],
        [`${root} rows_written`]: [null, root],
        [`${childA} api_calls`]: [root, root],
        [`${childA} storage_bytes`]: [root, root],
        [`${childB} api_calls`]: [root, root],
        [`${childB} storage_bytes`]: [root, root],
        [`${grandchild} api_calls`]: [childA, root],
        [`${grandchild} rows_written`]: [childA, root],
      });
      // Every root line of the installation equals the sum of that root's lines in the default export.
      const rolled = (rootAnswer.body as { lines: Line[] }).lines;
      for (const line of rolled) expect([line.tenantId, line.parentId]).toEqual([line.rootId, null]);
      expect(rootLines(rolled)).toEqual(byRoot(lines));
      expect(rolled.filter((line) => line.tenantId === root)).toEqual([
        expect.objectContaining({
          tenantName: 'Rollup Org',
          resourceType: 'api_calls',
          quantity: 38,
          parentId: null,
          rootId: root,
        }),
        expect.objectContaining({ resourceType: 'rows_written', quantity: 20 }),
        expect.objectContaining({ resourceType: 'storage_bytes', quantity: 3_500 }),
      ]);
      const rows = parseCsv(String(csv.body));
      expect(rows[0]?.slice(-2)).toEqual(['parent_id', 'root_id']);
      expect(rows).toContainEqual([
        root,
        'Rollup Org',
        '2019-04',
        'api_calls',
        '38',
        'count',
        expect.any(String),
        '',
        root,
      ]);
      // One root's subtree alone.
      const one = expectStatus(
        await finance.call('GET', `/usage/exports?month=2019-04&format=json&rollup=root&tenantId=${root}`),
        200,
      ).body as { lines: Line[] };
      expect(one.lines).toEqual(rolled.filter((line) => line.tenantId === root));
    }
    // The archived file itself carries the columns.
    const archived = expectStatus(await finance.call('GET', '/usage/exports/archive/2019-04'), 200);
    expect(String(archived.body).split('\r\n')[0]).toBe(
      'tenant_id,tenant_name,month,resource_type,quantity,unit,plan,parent_id,root_id',
    );
    // Only finance and platform admins; a tenant owner is refused.
    expect((await owner.call('GET', '/usage/exports?month=2019-04&rollup=root')).status).toBe(403);
  });

  it('reads a month archived before hierarchies: columns null, each tenant its own root', async () => {
    // Arrange: a file as a close before this change wrote it (no plan, parent_id or root_id).
    const old = `tenant_id,tenant_name,month,resource_type,quantity,unit\r\n${root},Rollup Org,1989-02,api_calls,4,count\r\n${childA},Rollup Unit A,1989-02,api_calls,6,count\r\n`;
    await mkdir(path.join(info.stateDir, 'exports'), { recursive: true });
    await writeFile(path.join(info.stateDir, 'exports', '1989-02.csv'), old, { flag: 'wx' });
    // Act
    const lines = expectStatus(await finance.call('GET', '/usage/exports?month=1989-02&format=json'), 200)
      .body as {
      lines: Line[];
    };
    const rolled = expectStatus(
      await finance.call('GET', '/usage/exports?month=1989-02&format=json&rollup=root'),
      200,
    ).body as { lines: Line[] };
    // Assert
    expect(lines.lines.map((line) => [line.tenantId, line.parentId, line.rootId])).toEqual([
      [root, null, null],
      [childA, null, null],
    ]);
    expect(rootLines(rolled.lines)).toEqual({
      [`${root} 1989-02 api_calls`]: 4,
      [`${childA} 1989-02 api_calls`]: 6,
    });
    expect((await finance.call('GET', '/usage/exports/archive/1989-02')).body).toBe(old);
  });
});
