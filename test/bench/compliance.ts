import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalClient } from '#infra/local/client';
import { type Actor, newActor, newTenant } from '../support/actors.ts';
import { withPg } from '../support/tenancy.ts';
import { bootUntilHealthy } from './platform.ts';
import type { Figure } from './report.ts';
import { median, percentile, round } from './stats.ts';

/**
 * Figure 15 (issue 19, "Measured"): the compliance report of a tenant with 1,000 members, against
 * what a client pays today to learn who they are: listing the same members through
 * `GET /tenants/{id}/members` in pages of 100 (ten requests). Both are timed in the same run, on
 * the same platform, alternating; the members are seeded straight into the control database.
 */

type Progress = (line: string) => void;

export interface ComplianceBenchOptions {
  readonly members: number;
  readonly runs: number;
}

async function seedMembers(info: LocalClient['info'], tenantId: string, count: number, progress: Progress) {
  const batch = 250;
  for (let done = 0; done < count; done += batch) {
    const size = Math.min(batch, count - done);
    await withPg(info, 'control', async (pg) => {
      await pg.query(
        `with seeded as (
           insert into users (id, email, last_sign_in_at)
           select 'bench-' || $1 || '-' || n, 'bench-member-' || n || '-' || $1 || '@example.com',
                  now() - (n % 120) * interval '1 day'
             from generate_series($2::int, $3::int) n
           returning id)
         insert into memberships (tenant_id, user_id, role)
         select $1, id, case when random() < 0.05 then 'admin' else 'member' end from seeded`,
        [tenantId, done, done + size - 1],
      );
    });
    progress(
      `compliance: seeded ${(done + size).toLocaleString('en')} of ${count.toLocaleString('en')} members`,
    );
  }
}

const timed = async (work: () => Promise<void>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

export async function measureCompliance(
  work: string,
  options: ComplianceBenchOptions,
  progress: Progress,
): Promise<Figure[]> {
  const { platform } = await bootUntilHealthy(await mkdtemp(path.join(work, 'compliance-')));
  const client = new LocalClient(platform.info);
  try {
    const owner: Actor = await newActor(client, 'bench-compliance');
    const { tenantId } = await newTenant(owner, 'Compliance bench');
    await seedMembers(platform.info, tenantId, options.members, progress);

    const report = async () => {
      const response = await owner.call('GET', `/tenants/${tenantId}/compliance`);
      const members = (response.body as { access?: { members?: unknown[] } }).access?.members?.length;
      if (response.status !== 200 || members !== options.members + 1) {
        throw new Error(`compliance: ${response.status}, ${members} members`);
      }
    };
    const listMembers = async () => {
      let cursor: string | null = null;
      let listed = 0;
      do {
        const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const response = await owner.call('GET', `/tenants/${tenantId}/members?limit=100${query}`);
        if (response.status !== 200) throw new Error(`members: ${response.status}`);
        const page = response.body as { items: unknown[]; nextCursor: string | null };
        listed += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
      if (listed !== options.members + 1) throw new Error(`members: listed ${listed}`);
    };
    await report();
    await listMembers();
    progress(`compliance: warmed up; ${options.runs} runs of each, alternating`);
    const reports: number[] = [];
    const lists: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      if (i % 2 === 0) {
        reports.push(await timed(report));
        lists.push(await timed(listMembers));
      } else {
        lists.push(await timed(listMembers));
        reports.push(await timed(report));
      }
      progress(
        `compliance: run ${i + 1}: report ${round(reports[i] ?? 0)} ms, member pages ${round(lists[i] ?? 0)} ms`,
      );
    }
    const ratio = median(reports) / median(lists);
    progress(
      `compliance: report p50 ${round(median(reports))} ms, ten member pages ${round(median(lists))} ms (${round(ratio, 2)}×)`,
    );
    return [
      {
        group: '15. Compliance report',
        name: `GET /tenants/{id}/compliance of a tenant with ${options.members.toLocaleString('en')} members, p50`,
        value: round(median(reports)),
        unit: 'ms',
        baseline: {
          name: `the same members through GET /tenants/{id}/members, pages of 100 (${Math.ceil((options.members + 1) / 100)} requests)`,
          value: round(median(lists)),
        },
        ratio: round(ratio, 2),
        note: `${options.runs} runs each, alternating; p95 ${round(percentile(reports, 95))} vs ${round(percentile(lists, 95))} ms. The report also reads the invitations, databases, backups and two audit queries (privileged changes, a COUNT of 30 days)`,
      },
    ];
  } finally {
    client.close();
    await platform.stop();
  }
}
