/**
 * UTC months as the tenant limits count them (`YYYY-MM`), with no SDK import: the rate-limit
 * middleware of every HTTP function uses them at request time without loading the DynamoDB
 * client at its cold init (test/unit/lean-cold-init.test.ts).
 */

export const monthOf = (now: number) => new Date(now).toISOString().slice(0, 7);

/** Epoch ms of the first instant of the next UTC month. */
export function nextMonthStart(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The seconds of a UTC month `YYYY-MM`. */
export function secondsInMonth(month: string): number {
  const start = Date.parse(`${month}-01T00:00:00Z`);
  return (nextMonthStart(start) - start) / 1000;
}
