import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { auditArchiveDir } from '#infra/local/audit-archive';
import {
  type ArchivedLine,
  archivedLineSchema,
  PLATFORM_PARTITION,
  partitionOf,
  partitionPrefix,
} from '#shared/records/audit-archive';
import { type Actor, clientFor, eventually, invite, newActor, newTenant } from '../support/actors.ts';

const info = inject('platform');
const client = clientFor(info);
const bucket = auditArchiveDir(info.stateDir);

interface ArchivedObject {
  /** The key in the bucket: `records/tenant=…/date=…/<name>.gz`. */
  readonly key: string;
  readonly lines: ArchivedLine[];
}

/** Every archived object of the local bucket, decompressed, each line parsed. */
async function archivedObjects(): Promise<ArchivedObject[]> {
  const entries = await readdir(path.join(bucket, 'records'), { recursive: true, withFileTypes: true }).catch(
    () => [],
  );
  const objects: ArchivedObject[] = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const key = path.relative(bucket, file).split(path.sep).join('/');
    const text = gunzipSync(await readFile(file)).toString('utf8');
    const lines = text
      .split('\n')
      .filter(Boolean)
      .map((line) => archivedLineSchema.parse(JSON.parse(line)));
    objects.push({ key, lines });
  }
  return objects;
}

const linesOf = (objects: readonly ArchivedObject[], tenantId: string) =>
  objects
    .filter((object) => object.key.startsWith(`records/tenant=${tenantId}/`))
    .flatMap((object) => object.lines);

interface AuditItem {
  action: string;
  at: string;
  statusCode: number;
  userId: string;
}

describe('audit archive (local platform)', () => {
  let owner: Actor;
  let other: Actor;
  let tenantA: string;
  let tenantB: string;

  beforeAll(async () => {
    owner = await newActor(client, 'archive-owner');
    other = await newActor(client, 'archive-other');
    tenantA = (await newTenant(owner)).tenantId;
    tenantB = (await newTenant(other)).tenantId;
  });

  it("archives every audit record and the usage of each request under the tenant's own date partition, as gzip NDJSON", async () => {
    // Act: mutating requests (audited and billed) and reads (billed) in both tenants
    await invite(owner, tenantA, 'archive-a@example.com', 'member');
    await invite(other, tenantB, 'archive-b@example.com', 'member');
    const reads = 3;
    for (let i = 0; i < reads; i += 1) {
      expect((await owner.call('GET', `/tenants/${tenantA}`)).status).toBe(200);
    }
    const audited = await eventually(
      () => owner.call('GET', `/tenants/${tenantA}/audit`),
      (response) =>
        ((response.body as { items?: AuditItem[] }).items ?? []).some(
          (item) => item.action === 'members.invite',
        ),
    );
    const auditItems = (audited.body as { items: AuditItem[] }).items;
    expect(auditItems.some((item) => item.action === 'members.invite')).toBe(true);

    // Assert: the archive has a line for every audit record the API lists, and the reads' usage
    const objects = await eventually(
      archivedObjects,
      (found) => {
        const lines = linesOf(found, tenantA);
        const audits = lines.filter((line) => line.kind === 'audit');
        return (
          auditItems.every((item) =>
            audits.some((line) => line.record.action === item.action && line.at === item.at),
          ) &&
          lines.filter((line) => line.kind === 'usage').length >= reads &&
          linesOf(found, tenantB).some(
            (line) => line.kind === 'audit' && line.record.action === 'members.invite',
          )
        );
      },
      20_000,
    );
    const lines = linesOf(objects, tenantA);
    for (const item of auditItems) {
      expect(
        lines.find(
          (line) => line.kind === 'audit' && line.record.action === item.action && line.at === item.at,
        ),
        `${item.action} at ${item.at}`,
      ).toMatchObject({
        tenantId: tenantA,
        record: { userId: item.userId, statusCode: item.statusCode, tenantId: tenantA },
      });
    }
    const usage = lines.filter((line) => line.kind === 'usage');
    expect(usage.length).toBeGreaterThanOrEqual(reads);
    for (const line of usage) expect(line.requestId, 'a request usage line names its request').not.toBeNull();
    // One line per record: no (event id, kind) twice in the tenant's partitions.
    const ids = lines.map((line) => `${line.eventId}/${line.kind}`);
    expect(new Set(ids).size).toBe(ids.length);
    // Tenant B's invite is in B's partition.
    expect(
      linesOf(objects, tenantB).some(
        (line) => line.kind === 'audit' && line.record.action === 'members.invite',
      ),
    ).toBe(true);
  });

  it("keeps every line in its own tenant's partition: none of another tenant, platform records apart", async () => {
    // Arrange: something archived for both tenants
    await invite(owner, tenantA, 'archive-a2@example.com', 'member');
    await invite(other, tenantB, 'archive-b2@example.com', 'member');
    const objects = await eventually(
      archivedObjects,
      (found) => linesOf(found, tenantA).length > 0 && linesOf(found, tenantB).length > 0,
      20_000,
    );
    // Assert
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      expect(object.key).toMatch(/^records\/tenant=[^/]+\/date=\d{4}-\d{2}-\d{2}\/[^/]+\.gz$/);
      for (const line of object.lines) {
        expect(`${path.posix.dirname(object.key)}/`).toBe(partitionPrefix(partitionOf(line)));
        const tenant = object.key.split('/')[1]?.slice('tenant='.length);
        expect(line.tenantId ?? PLATFORM_PARTITION).toBe(tenant);
      }
    }
    expect(linesOf(objects, tenantA).every((line) => line.tenantId === tenantA)).toBe(true);
    expect(JSON.stringify(linesOf(objects, tenantA))).not.toContain(tenantB);
    expect(JSON.stringify(linesOf(objects, tenantB))).not.toContain(tenantA);
  });
});
