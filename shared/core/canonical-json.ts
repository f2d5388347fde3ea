/**
 * A JSON value with the keys of every object in one (sorted) order, at every depth: two values
 * that differ only in key order become the same JSON text. Arrays keep their order.
 */
export function canonicalJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonicalJson((value as Record<string, unknown>)[key])]),
  );
}
