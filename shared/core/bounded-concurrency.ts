/**
 * Runs `work` over `items` with at most `concurrency` calls in flight, answers in the items' order.
 * For fan-outs the store forces on us (one DynamoDB Query per tenant: a Query reads one partition
 * key value; a consumer's writes per batch), so that a large organisation, installation or batch
 * does not open a request per item at once and meet the table's or the client's limits.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}
