/**
 * Latencies as a fixed-bucket histogram: counts per bucket are atomic `ADD`s on one DynamoDB item
 * per tenant and hour, so any number of requests fit in a few hundred bytes and percentiles come
 * from the counts on read. Bucket bounds grow by 25 %, from 1 ms to about 2 minutes; a percentile
 * is interpolated inside its bucket, so it is within one bucket (±12.5 % around the midpoint) of
 * the exact value.
 */
const GROWTH = 1.25;
const FIRST_BOUND_MS = 1;
const LAST_BOUND_MS = 120_000;

/** Upper bounds (ms) of the buckets; the last bucket takes everything above the last bound. */
export const BUCKET_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let bound = FIRST_BOUND_MS; bound < LAST_BOUND_MS; bound *= GROWTH) bounds.push(bound);
  bounds.push(LAST_BOUND_MS);
  return bounds;
})();

export const BUCKET_COUNT = BUCKET_BOUNDS_MS.length + 1;

/** Index of the bucket `latencyMs` falls in: the first whose upper bound is ≥ the latency. */
export function bucketOf(latencyMs: number): number {
  if (!(latencyMs > FIRST_BOUND_MS)) return 0;
  const index = Math.ceil(Math.log(latencyMs / FIRST_BOUND_MS) / Math.log(GROWTH) - 1e-9);
  if (index >= BUCKET_BOUNDS_MS.length) return BUCKET_BOUNDS_MS.length;
  // Floating point: step once if the estimate landed next to the right bucket.
  if ((BUCKET_BOUNDS_MS[index] ?? Number.POSITIVE_INFINITY) < latencyMs) return index + 1;
  if (index > 0 && (BUCKET_BOUNDS_MS[index - 1] ?? 0) >= latencyMs) return index - 1;
  return index;
}

/** Attribute name of a bucket on the stored item (`b00`…). */
export const bucketAttribute = (index: number) => `b${String(index).padStart(2, '0')}`;

/**
 * The `p`-th percentile (0 < p ≤ 100) of the histogram `counts` (by bucket index), or null when
 * it is empty: the rank's bucket, interpolated linearly between its bounds.
 */
export function percentile(counts: readonly number[], p: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let index = 0; index < counts.length; index++) {
    const count = counts[index] ?? 0;
    if (count === 0) continue;
    if (seen + count >= rank) {
      const lower = index === 0 ? 0 : (BUCKET_BOUNDS_MS[index - 1] ?? LAST_BOUND_MS);
      const upper = BUCKET_BOUNDS_MS[index] ?? LAST_BOUND_MS * GROWTH;
      const within = (rank - seen) / count;
      return Math.round((lower + (upper - lower) * within) * 100) / 100;
    }
    seen += count;
  }
  return BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.length - 1] ?? null;
}

/**
 * The `ADD`s of some latencies to a histogram item: `#bNN :bNN` per bucket they fall in, with the
 * attribute names and values to merge into an UpdateItem's expression.
 */
export function histogramAdds(latenciesMs: readonly number[]): {
  adds: string[];
  names: Record<string, string>;
  values: Record<string, number>;
} {
  const buckets = new Map<string, number>();
  for (const latency of latenciesMs) {
    const name = bucketAttribute(bucketOf(latency));
    buckets.set(name, (buckets.get(name) ?? 0) + 1);
  }
  const adds: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, number> = {};
  for (const [name, count] of buckets) {
    names[`#${name}`] = name;
    values[`:${name}`] = count;
    adds.push(`#${name} :${name}`);
  }
  return { adds, names, values };
}
