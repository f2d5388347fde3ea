import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { LocalClient } from '#infra/local/client';
import { type Actor, newActor } from '../support/actors.ts';
import { expectStatus } from '../support/tenancy.ts';
import { tenantWithDatabase } from '../support/tenant-data.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { percentile, round } from './stats.ts';

/**
 * Figure 11 (issue 18, "Measured"): a page of rows (`GET …/rows?limit=50`) of a pooled tenant
 * against the same page of a silo tenant, in the same run, one request at a time, alternating, so
 * that both see the same machine. A pooled statement is four Data API calls (begin, the switch to
 * the tenant's role and schema, the statement, commit: docs/isolation-modes.md) where a silo one is
 * one; the ratio is what that costs end to end through the gateway, the middleware and the stand-in.
 */

type Progress = (line: string) => void;

const COLUMNS = [
  { name: 'label', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'quantity', type: 'integer' },
];

async function seeded(owner: Actor, base: string, rows: number): Promise<void> {
  expectStatus(await owner.call('POST', `${base}/tables`, { name: 'items', columns: COLUMNS }), 201);
  for (let done = 0; done < rows; done += 500) {
    const body = Array.from({ length: Math.min(500, rows - done) }, (_, i) => ({
      label: `item ${done + i}`,
      amount: ((done + i) % 1000) + 0.5,
      quantity: (done + i) % 17,
    }));
    expectStatus(await owner.call('POST', `${base}/tables/items/rows/batch`, { rows: body }), 201, 200);
  }
}

export async function measurePool(
  work: string,
  options: { readonly rows: number; readonly requests: number },
  progress: Progress,
): Promise<Figure[]> {
  progress('pool: booting a local platform');
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'pool-platform-')));
  const client = new LocalClient(platform.info);
  try {
    const [owner, registrar] = await Promise.all([
      newActor(client, 'bench-pool'),
      newActor(client, 'bench-pool-admin', { groups: ['platform-admin'] }),
    ]);
    const silo = await tenantWithDatabase(owner, {}, { isolation: 'silo' });
    const pool = await tenantWithDatabase(owner, {}, { isolation: 'pool', registrar });
    await Promise.all([seeded(owner, silo.base, options.rows), seeded(owner, pool.base, options.rows)]);
    progress(`pool: two tenants of ${options.rows} rows each; ${options.requests} pages of each`);
    const times = { silo: [] as number[], pool: [] as number[] };
    const page = async (which: 'silo' | 'pool') => {
      const tenant = which === 'silo' ? silo : pool;
      const started = performance.now();
      expectStatus(await owner.call('GET', `${tenant.base}/tables/items/rows?limit=50&sort=quantity`), 200);
      times[which].push(performance.now() - started);
    };
    // Warm both (each function's first call loads its module and clients).
    for (let i = 0; i < 20; i++) await Promise.all([page('silo'), page('pool')]);
    times.silo.length = 0;
    times.pool.length = 0;
    for (let i = 0; i < options.requests; i++) {
      for (const which of i % 2 === 0 ? (['silo', 'pool'] as const) : (['pool', 'silo'] as const)) {
        await page(which);
      }
      if ((i + 1) % 100 === 0) progress(`pool: ${i + 1} of ${options.requests} pages of each`);
    }
    const p50 = { silo: percentile(times.silo, 50), pool: percentile(times.pool, 50) };
    const p95 = { silo: percentile(times.silo, 95), pool: percentile(times.pool, 95) };
    progress(`pool: rows page p50 ${round(p50.pool)} ms pooled, ${round(p50.silo)} ms silo`);
    return [
      {
        group: '11. Pooled tier',
        name: 'rows page (limit 50, sorted) of a pooled tenant, p50',
        value: round(p50.pool),
        unit: 'ms',
        baseline: { name: 'the same page of a silo tenant, p50', value: round(p50.silo) },
        ratio: round(p50.pool / p50.silo, 2),
        note: `${options.requests} pages of each, alternating, one at a time, ${options.rows} rows per tenant; p95 ${round(p95.pool)} ms pooled, ${round(p95.silo)} ms silo; no budget set`,
      },
    ];
  } finally {
    client.close();
    await platform.stop();
  }
}
