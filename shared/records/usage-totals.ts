/** Adds a day's value into a running total by the resource type's kind. */
export function combine(total: number | undefined, value: number, kind: 'counter' | 'gauge'): number {
  if (total === undefined) return value;
  return kind === 'gauge' ? Math.max(total, value) : total + value;
}
