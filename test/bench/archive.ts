import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LocalAuditArchive } from '#infra/local/audit-archive';
import { LocalEventBus, type PutEventsEntry } from '#infra/local/event-bus';
import { catalog } from '#shared/events/events';
import type { Figure } from './report.ts';
import { median } from './stats.ts';

const tenants = Array.from({ length: 20 }, (_, i) => `t_bench${String(i).padStart(15, '0')}`);

/** A mutating request's entry: its audit record, usage and metric sample. */
function requestEntry(i: number): PutEventsEntry {
  const tenantId = tenants[i % tenants.length] as string;
  const at = new Date(Date.UTC(2026, 11, 1 + (i % 3), 10)).toISOString();
  return {
    Source: 'tenantry.api',
    DetailType: 'Request Recorded',
    Detail: JSON.stringify({
      requestId: `req-${i}`,
      audit: {
        tenantId,
        userId: 'u_bench',
        action: 'table.create',
        resource: `tenants/${tenantId}/tables/t${i}`,
        outcome: 'success',
        statusCode: 201,
        requestId: `req-${i}`,
        at,
        details: { table: `t${i}` },
      },
      usage: { tenantId, resourceType: 'api_call', quantity: 1, unit: 'count', at },
      metric: { tenantId, operationId: 'createTable', statusCode: 201, latencyMs: 12, at },
    }),
  };
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/**
 * Figure 14: what the local audit archive adds to the local bus. The same entries are put into a
 * bus without consumers, once without the archive and once with it (its lines made, buffered, and
 * written as gzip NDJSON at the end, the write included), in the same run.
 */
export async function measureArchive(
  work: string,
  options: { entries: number; runs: number },
  progress: (line: string) => void,
): Promise<Figure[]> {
  const entries = Array.from({ length: options.entries }, (_, i) => requestEntry(i));
  const withArchive: number[] = [];
  const without: number[] = [];
  let bytes = 0;
  for (let run = 0; run < options.runs; run += 1) {
    const dir = path.join(work, `archive-${run}`);
    await mkdir(dir, { recursive: true });
    const archive = new LocalAuditArchive({ dir, streamName: 'bench', flushIntervalMs: 60_000 });
    const busOf = (onAccepted?: LocalAuditArchive['accept']) =>
      new LocalEventBus({
        busName: 'bench',
        catalog,
        subscriptions: [],
        deliver: async () => ({}),
        deadLetterFile: path.join(dir, 'dead-letter.jsonl'),
        failedInvocationsDir: path.join(dir, 'failed'),
        ...(onAccepted ? { onAccepted } : {}),
      });
    const plain = busOf();
    let started = performance.now();
    for (let i = 0; i < entries.length; i += 10) plain.putEvents(entries.slice(i, i + 10));
    without.push(performance.now() - started);

    const archived = busOf((event) => archive.accept(event));
    started = performance.now();
    for (let i = 0; i < entries.length; i += 10) archived.putEvents(entries.slice(i, i + 10));
    await archive.stop();
    withArchive.push(performance.now() - started);
    bytes = await bytesUnder(path.join(dir, 'records'));
    progress(
      `archive run ${run + 1}/${options.runs}: ${without.at(-1)?.toFixed(0)} ms without, ${withArchive.at(-1)?.toFixed(0)} ms with`,
    );
  }
  const value = median(withArchive);
  const baseline = median(without);
  return [
    {
      group: '14. Audit archive (local)',
      name: `PutEvents of ${options.entries.toLocaleString('en')} Request Recorded entries with the archive (lines made, gzip NDJSON written)`,
      value,
      unit: 'ms',
      baseline: { name: 'the same entries, bus without the archive', value: baseline },
      ratio: value / baseline,
    },
    {
      group: '14. Audit archive (local)',
      name: 'archived bytes per line (gzip NDJSON, 2 lines per entry)',
      value: bytes / (options.entries * 2),
      unit: 'B',
    },
  ];
}
