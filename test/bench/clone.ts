import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { LocalClient } from '#infra/local/client';
import { type Actor, eventually, newActor, newTenant } from '../support/actors.ts';
import { expectStatus } from '../support/tenancy.ts';
import { tenantWithDatabase } from '../support/tenant-data.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { round } from './stats.ts';

/**
 * Figure 10 (issue 17, "Measured"): the time to clone a tenant whose table holds `rows` rows, from
 * `POST …/clone` to the clone being active — the source's fresh backup, a database provisioned and
 * restored (verified), the tenant activated — against registering an empty tenant in the same run
 * (the provisioning every clone also goes through).
 */

type Progress = (line: string) => void;

/** The row shape of figure 10, which figure 13 (test/bench/move.ts) moves too. */
export const COLUMNS = [
  { name: 'label', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'quantity', type: 'integer' },
  { name: 'placed_at', type: 'timestamptz' },
  { name: 'meta', type: 'jsonb' },
];

async function untilSettled(actor: Actor, tenantId: string): Promise<string> {
  const settled = await eventually(
    () => actor.call('GET', `/tenants/${tenantId}`),
    (response) => (response.body as { status?: string }).status !== 'provisioning',
    600_000,
  );
  return (settled.body as { status: string }).status;
}

export async function measureClone(
  work: string,
  options: { readonly rows: number },
  progress: Progress,
): Promise<Figure[]> {
  const rows = options.rows.toLocaleString('en');
  progress(`clone: booting a local platform for a tenant of ${rows} rows`);
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'clone-platform-')));
  const client = new LocalClient(platform.info);
  try {
    const owner = await newActor(client, 'bench-clone');
    const registrationStarted = performance.now();
    const empty = await newTenant(owner);
    const registrationSeconds = (performance.now() - registrationStarted) / 1000;
    if (empty.tenant.status !== 'active') throw new Error(`registration ended ${empty.tenant.status}`);

    const { tenantId, base } = await tenantWithDatabase(owner);
    expectStatus(await owner.call('POST', `${base}/tables`, { name: 'items', columns: COLUMNS }), 201);
    const batch = 1_000;
    for (let done = 0; done < options.rows; done += batch) {
      const count = Math.min(batch, options.rows - done);
      const body = Array.from({ length: count }, (_, i) => ({
        label: `item ${done + i}`,
        amount: ((done + i) % 100_000) / 100 + 0.05,
        quantity: (done + i) % 17,
        placed_at: new Date(Date.UTC(2026, 0, 1) + (done + i) * 1000).toISOString(),
        meta: { n: done + i, tags: ['red', 'large'] },
      }));
      expectStatus(await owner.call('POST', `${base}/tables/items/rows/batch`, { rows: body }), 201, 200);
      if ((done / batch) % 20 === 0)
        progress(`clone: seeded ${(done + count).toLocaleString('en')} of ${rows} rows`);
    }

    progress('clone: cloning');
    const started = performance.now();
    const accepted = expectStatus(
      await owner.call('POST', `/tenants/${tenantId}/clone`, { name: 'Bench clone' }),
      202,
    );
    const cloneId = (accepted.body as { id: string }).id;
    const status = await untilSettled(owner, cloneId);
    const cloneSeconds = (performance.now() - started) / 1000;
    if (status !== 'active') throw new Error(`the clone ended ${status}`);
    progress(
      `clone: active after ${round(cloneSeconds, 1)} s (an empty registration: ${round(registrationSeconds, 1)} s)`,
    );

    return [
      {
        group: '10. Clone',
        name: `clone of a tenant with ${rows} rows, POST to active`,
        value: round(cloneSeconds, 2),
        unit: 's',
        baseline: {
          name: 'registering an empty tenant, POST to active',
          value: round(registrationSeconds, 2),
        },
        ratio: round(cloneSeconds / registrationSeconds, 2),
        note: `one run; ${round(options.rows / cloneSeconds, 0)} rows/s end to end (backup, provisioning, restore with verification); no budget set`,
      },
    ];
  } finally {
    client.close();
    await platform.stop();
  }
}
