import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { recordsHandler } from '#shared/composition/record-consumers';
import { AuditRecord } from '#shared/events/events';
import { parseCsv } from '#shared/exports/csv';
import { AUDIT_EXPORT_COLUMNS, auditExportPart } from '#shared/records/audit-export';
import { AuditStore } from '#shared/records/audit-store';
import { RecordBatchWriter } from '#shared/records/record-batch';
import { type Actor, addMember, clientFor, eventually, newActor, newTenant } from '../support/actors.ts';
import { busEvent, deliverUntilDone } from '../support/record-batches.ts';
import { errorOf } from '../support/tenancy.ts';

/**
 * GET /tenants/{tenantId}/audit/export (issue 19, part 3): every record of the range exactly once,
 * oldest first, across parts linked by their cursors; CSV safe to open in a spreadsheet; bad
 * ranges, formats and cursors a 400.
 */

const info = inject('platform');
const client = clientFor(info);
const aws = { region: info.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
const dynamo = new DynamoDBClient({ ...aws, endpoint: info.endpoints.dynamodb });
const audit = new AuditStore(dynamo, info.tables.audit, 400);
const writer = new RecordBatchWriter(dynamo, { usageTable: info.tables.usage, audit });
const records = recordsHandler(() => writer);

afterAll(() => {
  client.close();
  dynamo.destroy();
});

/** Seeded records lie in June 2026, outside the default range (the last 30 days) of any run after July. */
const FROM = '2026-06-01T00:00:00.000Z';
const TO = '2026-06-02T00:00:00.000Z';
const SEEDED = 60;
const HOSTILE = ['=HYPERLINK("https://evil.example","x")', '+1+1', '-2+3', '@SUM(A1)', '\tTAB', '\rCR'];

interface Seeded {
  readonly eventId: string;
  readonly at: string;
  readonly resource: string;
}

async function seed(tenantId: string, count: number, label: string): Promise<Seeded[]> {
  const seeded: Seeded[] = [];
  const events = Array.from({ length: count }, (_, i) => {
    // Two records share each second: the export orders them by event id, and keeps both.
    const at = new Date(Date.parse(FROM) + Math.floor(i / 2) * 60_000 + 1_000).toISOString();
    const eventId = randomUUID();
    const resource = i < HOSTILE.length ? (HOSTILE[i] as string) : `/tenants/${tenantId}/${label}/${i}`;
    seeded.push({ eventId, at, resource });
    return busEvent(
      AuditRecord,
      {
        tenantId,
        userId: i === 0 ? '=cmd|calc' : `user-${i}`,
        action: 'members.invite',
        resource,
        outcome: 'success',
        statusCode: 201,
        requestId: `req-${label}-${i}`,
        at,
        details: { index: i, note: i === 1 ? '=1+1' : `plain "quoted", ${label}` },
      },
      eventId,
    );
  });
  for (let i = 0; i < events.length; i += 10) {
    expect(await deliverUntilDone(records, events.slice(i, i + 10))).toEqual([]);
  }
  return seeded;
}

type Answer = Awaited<ReturnType<Actor['call']>>;

const textOf = (response: Answer) =>
  typeof response.body === 'string' ? response.body : JSON.stringify(response.body);

/** Follows `Link: rel="next"` from the first part until a part names none; every part's answer. */
async function allParts(actor: Actor, first: string): Promise<Answer[]> {
  const parts: Answer[] = [];
  let path: string | null = first;
  while (path) {
    const response = await actor.call('GET', path);
    expect(response.status, textOf(response)).toBe(200);
    parts.push(response);
    const link = response.headers.get('link');
    const cursor = response.headers.get('x-tenantry-next-cursor');
    path = link ? (/^<([^>]+)>; rel="next"$/.exec(link)?.[1] ?? null) : null;
    expect(Boolean(path)).toBe(Boolean(cursor));
    if (cursor) expect(path).toContain(`cursor=${encodeURIComponent(cursor)}`);
    expect(parts.length).toBeLessThan(50);
  }
  return parts;
}

const ordered = (seeded: readonly Seeded[]) =>
  [...seeded].sort((a, b) => (`${a.at}#${a.eventId}` < `${b.at}#${b.eventId}` ? -1 : 1));

describe('the audit export', () => {
  let owner: Actor;
  let member: Actor;
  let tenantId: string;
  let seededA: Seeded[];
  let seededB: Seeded[];
  const range = `from=${encodeURIComponent(FROM)}&to=${encodeURIComponent(TO)}`;

  beforeAll(async () => {
    [owner, member] = await Promise.all([
      newActor(client, 'export-owner'),
      newActor(client, 'export-member'),
    ]);
    const [a, b] = await Promise.all([newTenant(owner, 'Export A'), newTenant(owner, 'Export B')]);
    tenantId = a.tenantId;
    await addMember(owner, tenantId, member, 'member');
    [seededA, seededB] = await Promise.all([seed(tenantId, SEEDED, 'a'), seed(b.tenantId, 7, 'b')]);
  }, 60_000);

  it('NDJSON in parts of 7: every record of the range exactly once, oldest first, none of another tenant', async () => {
    const parts = await allParts(owner, `/tenants/${tenantId}/audit/export?${range}&limit=7`);

    const lines = parts.flatMap((part) =>
      textOf(part)
        .split('\n')
        .filter(Boolean)
        .map(
          (line) => JSON.parse(line) as { eventId: string; tenantId: string; at: string; resource: string },
        ),
    );
    expect(parts).toHaveLength(Math.ceil(SEEDED / 7));
    expect(parts.map((p) => Number(p.headers.get('x-tenantry-export-records')))).toEqual(
      parts.map((_, i) => Math.min(7, SEEDED - i * 7)),
    );
    expect(parts[0]?.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(lines.map((line) => line.eventId)).toEqual(ordered(seededA).map((s) => s.eventId));
    expect(new Set(lines.map((line) => line.tenantId))).toEqual(new Set([tenantId]));
    const others = new Set(seededB.map((s) => s.eventId));
    expect(lines.some((line) => others.has(line.eventId))).toBe(false);
    expect(lines[0]).toMatchObject({ action: 'members.invite', outcome: 'success', statusCode: 201 });
  });

  it('CSV: a header on every part, details as JSON text, formula cells neutralised, and it parses', async () => {
    const parts = await allParts(owner, `/tenants/${tenantId}/audit/export?${range}&format=csv&limit=25`);

    expect(parts).toHaveLength(3);
    expect(parts[0]?.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = parts.flatMap((part) => {
      const [header, ...body] = parseCsv(textOf(part));
      expect(header).toEqual([...AUDIT_EXPORT_COLUMNS]);
      return body;
    });
    const column = (name: (typeof AUDIT_EXPORT_COLUMNS)[number]) => AUDIT_EXPORT_COLUMNS.indexOf(name);
    expect(rows.map((row) => row[column('eventId')])).toEqual(ordered(seededA).map((s) => s.eventId));
    const byEvent = new Map(rows.map((row) => [row[column('eventId')], row]));
    for (const seeded of seededA) {
      const row = byEvent.get(seeded.eventId) ?? [];
      const resource = row[column('resource')];
      if (HOSTILE.includes(seeded.resource)) expect(resource).toBe(`'${seeded.resource}`);
      else expect(resource).toBe(seeded.resource);
      expect(row[column('statusCode')]).toBe('201');
      const details = JSON.parse(row[column('details')] ?? '') as { index: number };
      expect(typeof details.index).toBe('number');
    }
    const userIds = rows.map((row) => row[column('userId')]);
    expect(userIds).toContain("'=cmd|calc");
    expect(userIds.some((id) => /^[=+\-@\t\r]/.test(id ?? ''))).toBe(false);
  });

  it("without a range: the last 30 days, with the member's invitation made today, none of the June records", async () => {
    const since = Date.now() - 30 * 86_400_000;
    const recent = (parts: Answer[]) =>
      parts
        .flatMap((p) => textOf(p).split('\n').filter(Boolean))
        .map((line) => JSON.parse(line) as { eventId: string; action: string; at: string });
    const parts = await eventually(
      () => allParts(owner, `/tenants/${tenantId}/audit/export`),
      (found) => recent(found).some((line) => line.action === 'members.invite'),
    );
    const lines = recent(parts);
    expect(lines.filter((line) => line.action === 'members.invite')).toHaveLength(1);
    expect(lines.every((line) => Date.parse(line.at) >= since)).toBe(true);
    const june = new Set(seededA.map((s) => s.eventId));
    expect(lines.some((line) => june.has(line.eventId))).toBe(false);
  });

  it('a cursor holds its range: a part after the first with the same from and to, or none, is the same part', async () => {
    const first = await owner.call('GET', `/tenants/${tenantId}/audit/export?${range}&limit=10`);
    const cursor = first.headers.get('x-tenantry-next-cursor') ?? '';

    const bare = await owner.call('GET', `/tenants/${tenantId}/audit/export?limit=10&cursor=${cursor}`);
    const explicit = await owner.call(
      'GET',
      `/tenants/${tenantId}/audit/export?${range}&limit=10&cursor=${cursor}`,
    );
    const shifted = await owner.call(
      'GET',
      `/tenants/${tenantId}/audit/export?from=2026-05-01T00:00:00Z&limit=10&cursor=${cursor}`,
    );

    expect(bare.status).toBe(200);
    expect(textOf(bare)).toBe(textOf(explicit));
    expect(textOf(bare).split('\n').filter(Boolean)).toHaveLength(10);
    expect(shifted.status).toBe(400);
    expect(errorOf(shifted)?.details).toEqual([expect.objectContaining({ path: 'cursor' })]);
  });

  it.each([
    ['from after to', `from=${encodeURIComponent(TO)}&to=${encodeURIComponent(FROM)}`, 'from'],
    ['from after the default to (now)', 'from=2999-01-01T00:00:00Z', 'from'],
    ['a timestamp that is not ISO 8601', 'from=yesterday', 'from'],
    ['a day that does not exist', 'to=2026-02-30T00:00:00Z', 'to'],
    ['a timestamp without an offset', 'from=2026-06-01T00:00:00', 'from'],
    ['an unknown format', 'format=xlsx', 'format'],
    ['limit 0', 'limit=0', 'limit'],
    ['limit over the maximum', 'limit=10001', 'limit'],
    ['a cursor that is not one', 'cursor=not-a-cursor', 'cursor'],
    [
      'a cursor of the audit list',
      `cursor=${Buffer.from('["audit","2026-06-01T00:00:01.000Z#x"]').toString('base64url')}`,
      'cursor',
    ],
    [
      'a cursor outside its own range',
      `cursor=${Buffer.from(JSON.stringify(['auditExport', FROM, TO, '2027-01-01T00:00:00.000Z#abc'])).toString('base64url')}`,
      'cursor',
    ],
    ['an unknown parameter', 'action=members.invite', 'action'],
  ])('%s is a 400 naming it', async (_, query, path) => {
    const response = await owner.call('GET', `/tenants/${tenantId}/audit/export?${query}`);

    expect(response.status, textOf(response)).toBe(400);
    expect(errorOf(response)?.code).toBe('validation_failed');
    expect(JSON.stringify(errorOf(response)?.details)).toContain(`"path":"${path}"`);
  });

  it('a member without audit:read gets 403 and no record', async () => {
    const response = await member.call('GET', `/tenants/${tenantId}/audit/export?${range}`);

    expect(response.status).toBe(403);
    expect(textOf(response)).not.toContain(seededA[0]?.eventId ?? 'none');
  });

  it('parts stay under their byte cap: the store read page after page, every record once', async () => {
    const maxBytes = 2_000;
    const seen: string[] = [];
    let after: string | undefined;
    let parts = 0;
    do {
      const part = await auditExportPart(audit, {
        tenantId,
        from: FROM,
        to: TO,
        format: 'ndjson',
        after,
        maxRecords: 1000,
        maxBytes,
      });
      parts++;
      const lines = part.text.split('\n').filter(Boolean);
      expect(lines.length).toBe(part.records);
      expect(Buffer.byteLength(JSON.stringify(part.text)) - 2).toBeLessThanOrEqual(maxBytes);
      seen.push(...lines.map((line) => (JSON.parse(line) as { eventId: string }).eventId));
      after = part.nextSk ?? undefined;
    } while (after);

    expect(parts).toBeGreaterThan(5);
    expect(seen).toEqual(ordered(seededA).map((s) => s.eventId));
  });
});
