import { performance } from 'node:perf_hooks';
import type { LocalClient } from '#infra/local/client';
import { CONTROL_DATABASE, type PlatformInfo } from '#infra/local/platform-info';
import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { accessRecordOf } from '#shared/control/access-chain';
import { MAX_TENANT_DEPTH } from '#shared/control/tenant-paths';
import { type Actor, addMember, newActor, newTenant } from '../support/actors.ts';
import type { Figure } from './report.ts';
import { median, percentile, round } from './stats.ts';

/**
 * Figure 8 (issue 16, "Measured"): what inheritance costs an access check. An admin of a root
 * reads the root (their own role, depth 0) and a tenant MAX_TENANT_DEPTH levels below it (a role
 * inherited through five ancestors), alternating request by request so both share the machine's
 * state; the goal is a p50 ratio ≤ 1.2, i.e. no query per level. Measured twice: through the API
 * (GET /tenants/{id}, on a platform whose access cache is off, so every request runs the check),
 * and the access query alone, straight on PostgreSQL.
 */

type Progress = (line: string) => void;

export interface HierarchyBenchOptions {
  /** Requests (and queries) per depth. */
  readonly samples: number;
}

/** Alternates `a` and `b`, `samples` times each after a warm-up, and keeps each one's latency in ms. */
async function alternate(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  samples: number,
): Promise<{ a: number[]; b: number[] }> {
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < Math.min(20, samples); i++) await Promise.all([a(), b()]);
  for (let i = 0; i < samples; i++) {
    const order = i % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const);
    for (const side of order) {
      const started = performance.now();
      await (side === 'a' ? a() : b());
      times[side].push(performance.now() - started);
    }
  }
  return times;
}

export async function measureHierarchy(
  info: PlatformInfo,
  client: LocalClient,
  options: HierarchyBenchOptions,
  progress: Progress,
): Promise<Figure[]> {
  const [owner, admin] = await Promise.all([
    newActor(client, 'bench-tree-owner'),
    newActor(client, 'bench-tree-admin'),
  ]);
  const root = (await newTenant(owner, 'Tree bench root')).tenantId;
  let deepest = root;
  for (let depth = 1; depth <= MAX_TENANT_DEPTH; depth++) {
    deepest = (await newTenant(owner, `Tree bench depth ${depth}`, { parentId: deepest })).tenantId;
  }
  await addMember(owner, root, admin, 'admin');
  progress(`hierarchy: a chain of ${MAX_TENANT_DEPTH + 1} tenants; ${options.samples} requests per depth`);

  const get = (actor: Actor, tenantId: string) => async () => {
    const response = await actor.call('GET', `/tenants/${tenantId}`);
    if (response.status !== 200) throw new Error(`GET /tenants/${tenantId}: ${response.status}`);
  };
  const api = await alternate(get(admin, root), get(admin, deepest), options.samples);

  const pg = new PgSqlRunner({ ...info.postgres, database: CONTROL_DATABASE, max: 2 });
  let query: { a: number[]; b: number[] };
  try {
    const check = (tenantId: string) => async () => {
      if (!(await accessRecordOf(pg, admin.userId, tenantId))) throw new Error(`no access to ${tenantId}`);
    };
    query = await alternate(check(root), check(deepest), options.samples * 4);
  } finally {
    await pg.close();
  }

  const figure = (name: string, times: { a: number[]; b: number[] }, note: string): Figure[] => {
    const ratio = median(times.b) / median(times.a);
    progress(
      `hierarchy: ${name} p50 ${round(median(times.b), 2)} ms at depth ${MAX_TENANT_DEPTH}, ${round(median(times.a), 2)} ms at depth 0 (${round(ratio, 2)}×)`,
    );
    return [
      {
        group: '8. Tenant hierarchies',
        name: `${name}, p50, a role inherited from ${MAX_TENANT_DEPTH} levels up`,
        value: round(median(times.b), 2),
        unit: 'ms',
        baseline: {
          name: 'the same for the root, where the role is held (depth 0)',
          value: round(median(times.a), 2),
        },
        ratio: round(ratio, 2),
        budget: { text: 'p50 ratio ≤ 1.2 (issue 16)', met: ratio <= 1.2 },
        note: `${note}; p95 ${round(percentile(times.b, 95), 2)} vs ${round(percentile(times.a, 95), 2)} ms`,
      },
    ];
  };
  return [
    ...figure(
      'GET /tenants/{id} by an admin of the root',
      api,
      `${options.samples} requests each, alternating, one at a time, access cache off (every request checks)`,
    ),
    ...figure(
      'the access query alone (straight on PostgreSQL)',
      query,
      `${options.samples * 4} queries each, alternating; one statement whatever the depth`,
    ),
  ];
}
