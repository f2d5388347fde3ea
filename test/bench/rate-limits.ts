import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import autocannon from 'autocannon';
import { LocalClient } from '#infra/local/client';
import type { PlatformInfo } from '#infra/local/platform-info';
import { DynamoTenantLimiter } from '#shared/records/tenant-limits';
import { type Actor, newActor, newTenant } from '../support/actors.ts';
import type { Figure } from './report.ts';
import { createItemsTable, itemRow, primaryDatabase } from './rows.ts';
import { median, round } from './stats.ts';

/**
 * Figure 7 (issue 15, "Measured"): what per-tenant rate limiting costs and how exact it is, on
 * the API-only platform (consumers elsewhere, as in AWS) against one started
 * `--without-rate-limits` in the same run:
 *
 * - 7a: the rows page with enforcement on and off, the same load alternating between the two;
 * - 7b: a quiet tenant's rows page at a steady rate, alone and next to a noisy tenant sending ten
 *   times its rate limit;
 * - 7c: bursts of concurrent requests at a tenant with a small limit, spread over several
 *   routes (functions, each with its own limiter and DynamoDB client), and the noisy tenant's
 *   sustained overload: how many were admitted beyond what GCRA allows (burst + rate × time).
 */

type Progress = (line: string) => void;

const TABLE = 'bench_rate';
const ROWS = 60;
/**
 * The noisy tenant's and the burst tenant's limits: small, so that 10× the rate (20 req/s, mostly
 * refused) fits beside the quiet tenant on this machine's 2 cores without saturating them.
 */
const SMALL = { requestsPerSecond: 2, burst: 5 } as const;

export interface RateBenchOptions {
  /** Seconds of each load. */
  readonly seconds: number;
  /** Runs of the enforcement on/off loads, alternated (more than of the others: the goal is 5 %). */
  readonly onOffRuns: number;
  /** Runs of the noisy-neighbour loads. */
  readonly runs: number;
  /** Bursts fired at the small-limit tenant. */
  readonly bursts: number;
}

interface Load {
  /** Latencies in ms of the 2xx answers (autocannon's own histogram rounds to whole ms). */
  readonly ok: number[];
  readonly statuses: Map<number, number>;
  /** Socket errors and timeouts. */
  readonly errors: number;
  readonly total: number;
  readonly rps: number;
}

/** autocannon on one URL, keeping every answer's status and exact latency. */
function load(
  url: string,
  headers: Record<string, string>,
  options: { seconds: number; connections: number; rate?: number },
): Promise<Load> {
  const ok: number[] = [];
  const statuses = new Map<number, number>();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        headers,
        connections: options.connections,
        duration: options.seconds,
        ...(options.rate ? { overallRate: options.rate } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        const answered = [...statuses.values()].reduce((sum, n) => sum + n, 0);
        resolve({
          ok,
          statuses,
          errors: result.errors + result.timeouts,
          total: answered + result.errors + result.timeouts,
          rps: answered / options.seconds,
        });
      },
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) ok.push(ms);
    });
  });
}

const count = (l: Load, from: number, to: number) =>
  [...l.statuses].filter(([s]) => s >= from && s < to).reduce((sum, [, n]) => sum + n, 0);
const failed = (l: Load) => l.total - count(l, 200, 300);

/** A tenant with a table of ROWS rows on `info`, and its rows page. */
async function pageTenant(client: LocalClient, label: string) {
  const owner = await newActor(client, `bench-rate-${label}`);
  const { tenantId } = await newTenant(owner, `Rate bench ${label}`);
  const databaseId = await primaryDatabase(owner, tenantId);
  const base = `/tenants/${tenantId}/databases/${databaseId}/tables`;
  await createItemsTable(owner, base, TABLE);
  const rows = Array.from({ length: ROWS }, (_, i) => itemRow(i));
  const inserted = await owner.call('POST', `${base}/${TABLE}/rows/batch`, { rows });
  if (inserted.status !== 201) throw new Error(`batch: ${inserted.status} ${JSON.stringify(inserted.body)}`);
  return {
    owner,
    tenantId,
    databaseId,
    page: `${base}/${TABLE}/rows?limit=50`,
    auth: { authorization: `Bearer ${owner.token}` },
  };
}

type PageTenant = Awaited<ReturnType<typeof pageTenant>>;

/** 7a: the rows page on both platforms, 8 connections and 1, alternating on/off/off/on. */
async function enforcementOnOff(
  on: { info: PlatformInfo; tenant: PageTenant },
  off: { info: PlatformInfo; tenant: PageTenant },
  options: RateBenchOptions,
  progress: Progress,
): Promise<Figure[]> {
  const run = (side: typeof on, connections: number) =>
    load(`${side.info.apiUrl}${side.tenant.page}`, side.tenant.auth, {
      seconds: options.seconds,
      connections,
    });
  const warm = (side: typeof on) =>
    load(`${side.info.apiUrl}${side.tenant.page}`, side.tenant.auth, { seconds: 1, connections: 8 });
  await warm(on);
  await warm(off);
  const loads = { on: [] as Load[], off: [] as Load[] };
  const single = { on: [] as Load[], off: [] as Load[] };
  for (let i = 0; i < options.onOffRuns; i++) {
    const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
    for (const side of order) loads[side].push(await run(side === 'on' ? on : off, 8));
    for (const side of order) single[side].push(await run(side === 'on' ? on : off, 1));
  }
  const all = [...loads.on, ...loads.off, ...single.on, ...single.off];
  const errors = all.reduce((sum, l) => sum + failed(l), 0);
  if (errors > 0) throw new Error(`${errors} failed requests during the enforcement on/off load`);
  const p50 = (ls: Load[]) => median(ls.map((l) => median(l.ok)));
  const rps = (ls: Load[]) => median(ls.map((l) => l.rps));
  const [onP50, offP50, onRps, offRps] = [p50(loads.on), p50(loads.off), rps(loads.on), rps(loads.off)];
  const [onOne, offOne] = [p50(single.on), p50(single.off)];
  const ratio = onP50 / offP50;
  progress(
    `rate limits on/off: rows page p50 ${round(onP50)} ms on, ${round(offP50)} ms off (${round(ratio, 2)}×); ${round(onRps, 0)} vs ${round(offRps, 0)} req/s; 1 connection ${round(onOne)} vs ${round(offOne)} ms`,
  );
  return [
    {
      group: '7. Rate limits',
      name: 'GET …/rows?limit=50, p50, 8 connections, rate limits enforced (consumers elsewhere, as in AWS)',
      value: round(onP50),
      unit: 'ms',
      baseline: { name: 'the same on a platform started --without-rate-limits', value: round(offP50) },
      ratio: round(ratio, 2),
      budget: { text: 'p50 ratio ≤ 1.05 (issue 15)', met: ratio <= 1.05 },
      note: `one conditional UpdateItem on the limits table per request, through the IAM gate into dynalite on the same 2 cores; ${options.onOffRuns} runs of ${options.seconds} s each side, alternated`,
    },
    {
      group: '7. Rate limits',
      name: 'GET …/rows?limit=50, p50, 1 connection, rate limits enforced',
      value: round(onOne),
      unit: 'ms',
      baseline: { name: 'the same on a platform started --without-rate-limits', value: round(offOne) },
      ratio: round(onOne / offOne, 2),
      note: 'unsaturated: the latency the UpdateItem adds to one request, rather than its CPU share',
    },
    {
      group: '7. Rate limits',
      name: 'GET …/rows?limit=50, throughput, 8 connections, rate limits enforced',
      value: round(onRps, 0),
      unit: 'req/s',
      baseline: { name: 'the same on a platform started --without-rate-limits', value: round(offRps, 0) },
      ratio: round(onRps / offRps, 2),
    },
  ];
}

/** One admission alone: the limiter's UpdateItem through the local DynamoDB API, one at a time. */
async function admissionAlone(info: PlatformInfo, progress: Progress): Promise<Figure> {
  const dynamo = new DynamoDBClient({
    region: info.region,
    endpoint: info.endpoints.dynamodb,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const limiter = new DynamoTenantLimiter(dynamo, info.tables.limits);
    const question = {
      tenantId: `t-bench-admit-${Date.now()}`,
      limits: { requestsPerSecond: 1_000_000, burst: 1_000_000, apiCallsPerMonth: 1_000_000_000 },
      checkMonth: true,
    };
    const times: number[] = [];
    for (let i = 0; i < 220; i++) {
      const started = performance.now();
      const admission = await limiter.admit(question);
      if (!admission.admitted) throw new Error('the generous admission was refused');
      if (i >= 20) times.push(performance.now() - started);
    }
    progress(`one admission alone: p50 ${round(median(times), 2)} ms`);
    return {
      group: '7. Rate limits',
      name: 'one admission alone: DynamoTenantLimiter.admit, one at a time, p50',
      value: round(median(times), 2),
      unit: 'ms',
      note: 'the SDK, the IAM gate and dynalite on this machine; in AWS one DynamoDB UpdateItem, typically single-digit ms',
    };
  } finally {
    dynamo.destroy();
  }
}

/** 7b: the quiet tenant at a steady rate, alone and next to the noisy one at 10× its limit. */
async function noisyNeighbour(
  info: PlatformInfo,
  quiet: PageTenant,
  noisy: { owner: Actor; tenantId: string },
  options: RateBenchOptions,
  progress: Progress,
): Promise<{ figures: Figure[]; sustained: { admitted: number; allowed: number; sent: number } }> {
  const quietRate = 10;
  const noisyRate = SMALL.requestsPerSecond * 10;
  const quietLoad = () =>
    load(`${info.apiUrl}${quiet.page}`, quiet.auth, {
      seconds: options.seconds,
      connections: 2,
      rate: quietRate,
    });
  // Timed from start to the last answer: the window its admissions fall in.
  let noisySeconds = 0;
  const noisyLoad = async () => {
    const started = performance.now();
    const result = await load(
      `${info.apiUrl}/tenants/${noisy.tenantId}/databases`,
      { authorization: `Bearer ${noisy.owner.token}` },
      { seconds: options.seconds, connections: 10, rate: noisyRate },
    );
    noisySeconds += (performance.now() - started) / 1000;
    return result;
  };
  const alone: Load[] = [];
  const beside: Load[] = [];
  const noise: Load[] = [];
  for (let i = 0; i < options.runs; i++) {
    alone.push(await quietLoad());
    // The noisy tenant's bucket full again before each of its runs (burst / rate seconds).
    await new Promise((resolve) => setTimeout(resolve, (SMALL.burst / SMALL.requestsPerSecond) * 1000 + 200));
    const [q, n] = await Promise.all([quietLoad(), noisyLoad()]);
    beside.push(q);
    noise.push(n);
  }
  const unexpected = noise.reduce((sum, l) => sum + failed(l) - (l.statuses.get(429) ?? 0), 0);
  if (unexpected > 0) throw new Error(`${unexpected} noisy requests answered neither 2xx nor 429`);
  const p50 = (ls: Load[]) => median(ls.map((l) => median(l.ok)));
  const errorRate = (ls: Load[]) =>
    ls.reduce((sum, l) => sum + failed(l), 0) /
    Math.max(
      1,
      ls.reduce((sum, l) => sum + l.total, 0),
    );
  const [aloneP50, besideP50] = [p50(alone), p50(beside)];
  const [aloneErrors, besideErrors] = [errorRate(alone), errorRate(beside)];
  const sent = noise.reduce((sum, l) => sum + l.total, 0);
  const admitted = noise.reduce((sum, l) => sum + count(l, 200, 300), 0);
  const refused = noise.reduce((sum, l) => sum + (l.statuses.get(429) ?? 0), 0);
  // Each run starts with a full bucket: at most burst + rate × its time admitted per run.
  const allowed = Math.floor(options.runs * SMALL.burst + SMALL.requestsPerSecond * noisySeconds);
  const noisySent = sent / noisySeconds;
  progress(
    `noisy neighbour (noise sent at ${round(noisySent, 1)} req/s): quiet p50 ${round(aloneP50)} ms alone, ${round(besideP50)} ms beside the noise; quiet errors ${round(aloneErrors * 100, 2)} % / ${round(besideErrors * 100, 2)} %; noisy ${admitted} admitted, ${refused} refused of ${sent} (bound ${allowed})`,
  );
  const setting = `quiet tenant ${quietRate} req/s on its rows page; noisy tenant ${noisyRate} req/s on GET …/databases, 10× its limit of ${SMALL.requestsPerSecond} req/s (burst ${SMALL.burst})`;
  return {
    sustained: { admitted, allowed, sent },
    figures: [
      {
        group: '7. Rate limits',
        name: 'noisy neighbour: the quiet tenant’s rows page p50 beside a tenant at 10× its rate limit',
        value: round(besideP50),
        unit: 'ms',
        baseline: { name: 'the quiet tenant alone', value: round(aloneP50) },
        ratio: round(besideP50 / aloneP50, 2),
        note: `${setting}; every tenant here shares the same 2 cores, so the noise's refused requests (JWT, grant, one UpdateItem, one PutEvents each) still take CPU from the quiet one`,
      },
      {
        group: '7. Rate limits',
        name: 'noisy neighbour: the quiet tenant’s error rate beside a tenant at 10× its rate limit',
        value: round(besideErrors * 100, 2),
        unit: '%',
        baseline: { name: 'the quiet tenant alone', value: round(aloneErrors * 100, 2) },
        budget: { text: '0 % (other tenants not affected)', met: besideErrors === 0 },
        note: `noisy tenant: ${admitted} of ${sent} admitted (sent at ${round(noisySent, 1)} req/s), ${refused} answered 429 rate_limited`,
      },
    ],
  };
}

/** 7c: bursts of concurrent requests at the small-limit tenant, over four routes. */
async function bursts(
  owner: Actor,
  tenantId: string,
  databaseId: string,
  options: RateBenchOptions,
  progress: Progress,
): Promise<{ admitted: number; allowed: number; sent: number }> {
  const size = SMALL.burst * 5;
  const routes = [
    `/tenants/${tenantId}/databases`,
    `/tenants/${tenantId}/roles`,
    `/tenants/${tenantId}/modules`,
    `/tenants/${tenantId}/databases/${databaseId}/tables`,
  ];
  let admitted = 0;
  let allowed = 0;
  for (let b = 0; b < options.bursts; b++) {
    // A full bucket: burst / rate seconds since the last admitted request.
    await new Promise((resolve) => setTimeout(resolve, (SMALL.burst / SMALL.requestsPerSecond) * 1000 + 200));
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: size }, (_, i) => owner.call('GET', routes[i % routes.length] as string)),
    );
    const seconds = (performance.now() - started) / 1000;
    const other = answers.find((r) => r.status !== 200 && r.status !== 429);
    if (other) throw new Error(`burst: ${other.status} ${JSON.stringify(other.body)}`);
    admitted += answers.filter((r) => r.status === 200).length;
    // From the first request sent to the last answer: an upper bound on the admissions' window.
    allowed += Math.floor(SMALL.burst + SMALL.requestsPerSecond * seconds);
  }
  progress(`bursts: ${admitted} admitted of ${options.bursts} × ${size} sent, bound ${allowed}`);
  return { admitted, allowed, sent: options.bursts * size };
}

/**
 * Figure 7. `on` is the API-only platform; `off` the same started `--without-rate-limits`; both
 * run the "generous" test plan, so only the tenants given small limits here are refused.
 */
export async function measureRateLimits(
  on: PlatformInfo,
  off: PlatformInfo,
  options: RateBenchOptions,
  progress: Progress,
): Promise<{ figures: Figure[]; notes: string[] }> {
  const onClient = new LocalClient(on);
  const offClient = new LocalClient(off);
  try {
    const [onTenant, offTenant] = await Promise.all([
      pageTenant(onClient, 'on'),
      pageTenant(offClient, 'off'),
    ]);
    const figures = await enforcementOnOff(
      { info: on, tenant: onTenant },
      { info: off, tenant: offTenant },
      options,
      progress,
    );
    figures.push(await admissionAlone(on, progress));

    const admin = await newActor(onClient, 'bench-rate-admin', { groups: ['platform-admin'] });
    const noisy = await pageTenant(onClient, 'noisy');
    const limit = await admin.call('PUT', `/tenants/${noisy.tenantId}/plan`, {
      plan: 'generous',
      overrides: SMALL,
    });
    if (limit.status !== 200) throw new Error(`plan: ${limit.status} ${JSON.stringify(limit.body)}`);
    const neighbour = await noisyNeighbour(on, onTenant, noisy, options, progress);
    figures.push(...neighbour.figures);
    const burst = await bursts(noisy.owner, noisy.tenantId, noisy.databaseId, options, progress);

    const over = (r: { admitted: number; allowed: number }) => Math.max(0, r.admitted - r.allowed);
    const fraction = (r: { admitted: number; allowed: number }) => over(r) / r.allowed;
    figures.push(
      {
        group: '7. Rate limits',
        name: `over-limit fraction admitted in ${options.bursts} bursts of ${SMALL.burst * 5} concurrent requests over 4 routes (limit ${SMALL.requestsPerSecond} req/s, burst ${SMALL.burst})`,
        value: round(fraction(burst), 4),
        unit: '',
        budget: { text: '0 (exact by design)', met: over(burst) === 0 },
        note: `${burst.admitted} admitted of ${burst.sent} sent; GCRA allows ${burst.allowed} (burst + rate × each burst's time from first send to last answer); each route is its own function with its own limiter`,
      },
      {
        group: '7. Rate limits',
        name: `over-limit fraction admitted to the noisy tenant at 10× its limit, ${options.runs} × ${options.seconds} s`,
        value: round(fraction(neighbour.sustained), 4),
        unit: '',
        budget: { text: '0 (exact by design)', met: over(neighbour.sustained) === 0 },
        note: `${neighbour.sustained.admitted} admitted of ${neighbour.sustained.sent} sent; GCRA allows ${neighbour.sustained.allowed} (burst + rate × each run's time to its last answer, a full bucket each run)`,
      },
    );
    return { figures, notes: NOTES };
  } finally {
    onClient.close();
    offClient.close();
  }
}

const NOTES = [
  'Rate limits (figure 7, issue 15): the "off" baseline is a second API-only platform started `--without-rate-limits` ' +
    '(no function has the limits table, so none has a limiter), loaded in the same run, alternating with the "on" one. ' +
    "The difference is the limiter's one conditional UpdateItem per request on the tenant's item of the month. " +
    'Here that write goes through the SDK, the IAM gate and dynalite, all on the same 2 cores as the handler (the ' +
    '"one admission alone" figure), so it adds both latency and CPU to a page that itself takes only a few Data API ' +
    'calls; in AWS it is one DynamoDB write served elsewhere, so the ≤ 1.05 goal is a question for a deployed stage ' +
    'as much as for this machine.',
  'Rate limits, accuracy: admission is exact, not approximate. Each tenant has one item a month in the LimitsTable, and ' +
    'every request is admitted by one strongly consistent conditional UpdateItem on that item (GCRA: the item keeps ' +
    'the theoretical arrival time; the condition holds only while it is at most (burst − 1) / rate ahead). DynamoDB ' +
    'serializes writes to one item, so however many Lambda instances serve the tenant at once, a burst cannot admit ' +
    'more than `burst` requests, nor more than burst + rate × t over any time t; there is no per-instance counter or ' +
    'cache to drift. A request that loses every race (4 attempts) is refused, never let through, so under contention ' +
    'the error is on the side of refusing. The one exception by design: if the limits table is unreachable the request ' +
    'is let through and logged. The over-limit figures measure admitted requests against burst + rate × (first send to ' +
    'last answer), a bound that can only be generous to the limiter.',
  'Rate limits, the noisy neighbour: the quiet tenant is never refused and its item is never touched by the noisy ' +
    "tenant's requests. Its latency beside the noise rises here because every tenant shares the same 2 cores: a " +
    'refused request still costs the gateway, the JWT check, the grant lookup, one UpdateItem and one PutEvents. In AWS ' +
    "those run in the noisy tenant's own Lambda invocations; what they share with other tenants is the account's Lambda " +
    'concurrency (no per-tenant throttle sits in front of an HTTP API).',
];
