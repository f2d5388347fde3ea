import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBackupStore } from '#shared/adapters/file-backup-store';
import { nextPageRows } from '#shared/backups/dump-table';
import { NdjsonParts, type Part, PartUnreadable, readPart } from '#shared/backups/ndjson-parts';
import { batchesOf } from '#shared/backups/restore-table';
import { partKey } from '#shared/backups/table-parts';
import { checkedKey, keySegment } from '#shared/ports/backup-store';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const TENANT = 't_abcdefghijklmnopqrst';

/** Feeds `lines` through NdjsonParts and keeps every part it makes. */
async function partsOf(lines: readonly string[], maxPartBytes: number) {
  const made: Part[] = [];
  const parts = new NdjsonParts('t', async (part) => void made.push(part), maxPartBytes);
  for (const line of lines) await parts.add(line);
  return { summary: await parts.finish(), made };
}

describe('NDJSON parts', () => {
  it('cuts parts at whole lines, none over the bound, each a gzip stream of its own, in order', async () => {
    // Arrange: 100 lines of 10 bytes each with their newline; parts of at most 95 bytes hold 9.
    const lines = Array.from({ length: 100 }, (_, i) => `{"n":${String(i).padStart(3, '0')}}`);
    expect(Buffer.byteLength(`${lines[0]}\n`)).toBe(10);

    // Act
    const { summary, made } = await partsOf(lines, 95);

    // Assert
    expect(made.map((p) => p.rows)).toEqual([...Array(11).fill(9), 1]);
    expect(made.map((p) => p.index)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const part of made) {
      const text = gunzipSync(part.body).toString('utf8');
      expect(part.bytes).toBe(Buffer.byteLength(text));
      expect(part.bytes).toBeLessThanOrEqual(95);
      expect(part.sha256).toBe(sha256(text));
      expect(part.compressedBytes).toBe(part.body.length);
    }
    const whole = made.map((p) => gunzipSync(p.body).toString('utf8')).join('');
    expect(whole).toBe(`${lines.join('\n')}\n`);
    expect(summary).toMatchObject({ name: 't', rows: 100, bytes: 1000, sha256: sha256(whole) });
    expect(summary.parts).toHaveLength(12);
  });

  it('gives a line longer than the bound a part alone rather than splitting or dropping it', async () => {
    const long = `{"x":"${'a'.repeat(300)}"}`;
    const { made } = await partsOf(['{"a":1}', long, '{"b":2}'], 100);
    expect(made.map((p) => p.rows)).toEqual([1, 1, 1]);
    expect(gunzipSync(made[1]?.body ?? new Uint8Array()).toString()).toBe(`${long}\n`);
  });

  it('counts bytes, not characters (UTF-8), and hashes the UTF-8 text', async () => {
    const line = '{"t":"é😀"}'; // é is 2 bytes, 😀 4
    const { summary } = await partsOf([line], 1_000);
    expect(summary.bytes).toBe(Buffer.byteLength(`${line}\n`, 'utf8'));
    expect(summary.sha256).toBe(sha256(`${line}\n`));
  });

  it('is deterministic: the same lines make the same checksums, another order another table sha256', async () => {
    const lines = ['{"a":1}', '{"a":2}', '{"a":3}'];
    const first = await partsOf(lines, 16);
    const again = await partsOf(lines, 16);
    const swapped = await partsOf([...lines].reverse(), 16);
    expect(again.summary).toEqual(first.summary);
    expect(swapped.summary.sha256).not.toBe(first.summary.sha256);
  });

  it('makes no part for a table with no rows, and the sha256 of nothing', async () => {
    const { summary, made } = await partsOf([], 100);
    expect(made).toEqual([]);
    expect(summary).toEqual({ name: 't', rows: 0, bytes: 0, sha256: sha256(''), parts: [] });
  });

  it('refuses a line with a newline in it (it would make two NDJSON lines)', async () => {
    const parts = new NdjsonParts('t', async () => {}, 100);
    await expect(parts.add('{"a":\n1}')).rejects.toThrow('newline');
  });

  it('reads a part back to its lines, and refuses one corrupt, altered, or with other rows', async () => {
    // Arrange
    const { made } = await partsOf(['{"a":1}', '{"a":2}'], 1_000);
    const part = made[0] as Part;

    // Act / Assert: intact
    await expect(readPart(part.body, part)).resolves.toEqual(['{"a":1}', '{"a":2}']);
    // Not gzip at all
    await expect(readPart(Buffer.from('garbage'), part)).rejects.toThrow(PartUnreadable);
    // A valid gzip stream of other content (a changed digit): the checksum tells
    const altered = gzipSync(Buffer.from('{"a":1}\n{"a":3}\n'));
    await expect(readPart(altered, part)).rejects.toThrow('checksum');
    // A flipped byte inside the compressed data
    const flipped = Buffer.from(part.body);
    flipped[12] = (flipped[12] ?? 0) ^ 0xff;
    await expect(readPart(flipped, part)).rejects.toThrow(PartUnreadable);
  });
});

describe('dump pages', () => {
  it('asks for about what fitted the last page when the byte budget cut it, and grows back when it did not', () => {
    // A cut page (kept < asked): what fitted plus a tenth, so the next renders few rows it drops.
    expect(nextPageRows(1_000, 90, 1_000)).toBe(99);
    expect(nextPageRows(99, 92, 1_000)).toBe(102);
    // A row alone over the budget is a page alone: the next still asks for more than one row.
    expect(nextPageRows(1_000, 1, 1_000)).toBe(2);
    // Not cut: twice as many, never beyond pageRows.
    expect(nextPageRows(102, 102, 1_000)).toBe(204);
    expect(nextPageRows(800, 800, 1_000)).toBe(1_000);
    expect(nextPageRows(1_000, 1_000, 1_000)).toBe(1_000);
    expect(nextPageRows(4, 4, 4)).toBe(4);
  });
});

describe('load batches', () => {
  it('cuts at the row and byte bounds, keeps order, and gives an oversized line a batch alone', () => {
    const lines = ['aaaa', 'bbbb', 'cccc', 'x'.repeat(50), 'dd'];
    expect(batchesOf(lines, { batchRows: 2, batchBytes: 1_000 })).toEqual([
      ['aaaa', 'bbbb'],
      ['cccc', 'x'.repeat(50)],
      ['dd'],
    ]);
    expect(batchesOf(lines, { batchRows: 100, batchBytes: 12 })).toEqual([
      ['aaaa', 'bbbb'],
      ['cccc'],
      ['x'.repeat(50)],
      ['dd'],
    ]);
    expect(batchesOf([], { batchRows: 1, batchBytes: 1 })).toEqual([]);
  });
});

describe('backup keys', () => {
  it('encodes any table name as one safe segment, reversibly', () => {
    for (const name of ['orders', 'Ledger "Q1" / 2024', '..', '.', 'a.b', 'ünï côdé', "it's (x)*~!"]) {
      const segment = keySegment(name);
      expect(segment).toMatch(/^[A-Za-z0-9_%-]+$/);
      expect(decodeURIComponent(segment)).toBe(name);
      expect(() => checkedKey(TENANT, partKey('b1/db1', name, 1))).not.toThrow();
    }
    expect(partKey('b1/db1', 'orders', 7)).toBe('b1/db1/orders/part-00007.ndjson.gz');
  });

  it('refuses keys that would leave the tenant prefix, and tenant ids that are not ids', () => {
    for (const key of ['../t_other/x', 'a/../../b', '/abs', 'a//b', '', 'a/./b', 'a\\b', 'a/b/']) {
      expect(() => checkedKey(TENANT, key), key).toThrow('unsafe key');
    }
    expect(() => checkedKey('../etc', 'a')).toThrow('not a tenant id');
    expect(checkedKey(TENANT, '', { prefix: true })).toBe('');
    expect(checkedKey(TENANT, 'b1/', { prefix: true })).toBe('b1/');
  });
});

describe('FileBackupStore', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const newStore = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'backup-store-'));
    dirs.push(dir);
    return { dir, store: new FileBackupStore(dir) };
  };

  it('puts, gets, lists by prefix and deletes under the tenant folder only', async () => {
    // Arrange
    const { dir, store } = await newStore();
    const other = 't_zzzzzzzzzzzzzzzzzzzz';

    // Act
    await store.put(TENANT, 'b1/db/orders/part-00001.ndjson.gz', Buffer.from('one'));
    await store.put(TENANT, 'b1/db/orders/part-00002.ndjson.gz', Buffer.from('two!'));
    await store.put(TENANT, 'b2/db/x/part-00001.ndjson.gz', Buffer.from('b2'));
    await store.put(other, 'b1/db/orders/part-00001.ndjson.gz', Buffer.from('theirs'));
    await store.put(TENANT, 'b1/db/orders/part-00002.ndjson.gz', Buffer.from('two?')); // replaced

    // Assert
    expect(Buffer.from((await store.get(TENANT, 'b1/db/orders/part-00002.ndjson.gz')) ?? '').toString()).toBe(
      'two?',
    );
    await expect(store.get(TENANT, 'b1/db/none')).resolves.toBeNull();
    expect(await store.list(TENANT, 'b1/')).toEqual([
      { key: 'b1/db/orders/part-00001.ndjson.gz', bytes: 3 },
      { key: 'b1/db/orders/part-00002.ndjson.gz', bytes: 4 },
    ]);
    expect((await store.list(TENANT, '')).map((o) => o.key)).toHaveLength(3);
    await expect(store.list('t_nobodynobodynobodyno', '')).resolves.toEqual([]);
    await store.delete(TENANT, ['b1/db/orders/part-00001.ndjson.gz', 'b1/never/existed']);
    expect((await store.list(TENANT, 'b1/')).map((o) => o.key)).toEqual([
      'b1/db/orders/part-00002.ndjson.gz',
    ]);
    expect(await store.list(other, '')).toHaveLength(1);
    expect((await readdir(dir)).sort()).toEqual([TENANT, other].sort());
    await expect(store.put(TENANT, '../escape', Buffer.from('x'))).rejects.toThrow('unsafe key');
  });
});
