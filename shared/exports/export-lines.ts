import { FORMULA_CHARACTERS, parseCsv, toCsv } from '#shared/exports/csv';
import type { ExportLine } from '#shared/ports/export-archive';

export const EXPORT_HEADER = [
  'tenant_id',
  'tenant_name',
  'month',
  'resource_type',
  'quantity',
  'unit',
  // Each added at the end, so that readers of the columns before it keep working.
  'plan',
  'parent_id',
  'root_id',
] as const;

/**
 * Headers of files archived earlier, read with what they lack empty: before plans (issue 15) with
 * an empty plan, before hierarchies (issue 16) with a null parent and root.
 */
const HEADERS_READ = new Set([
  EXPORT_HEADER.join(','),
  EXPORT_HEADER.slice(0, -2).join(','),
  EXPORT_HEADER.slice(0, -3).join(','),
]);

export function linesToCsv(lines: readonly ExportLine[]): string {
  return toCsv(
    EXPORT_HEADER,
    lines.map((line) => [
      line.tenantId,
      line.tenantName,
      line.month,
      line.resourceType,
      line.quantity,
      line.unit,
      line.plan,
      line.parentId,
      line.rootId,
    ]),
  );
}

/** Undoes the formula-injection prefix of a text cell. */
const NEUTRALISED = new RegExp(`^'[${FORMULA_CHARACTERS}]`);
const unneutralise = (cell: string) => (NEUTRALISED.test(cell) ? cell.slice(1) : cell);

export function csvToLines(csv: string): ExportLine[] {
  const [header, ...rows] = parseCsv(csv);
  if (!HEADERS_READ.has(header?.join(',') ?? '')) throw new Error('Not a Tenantry usage export');
  return rows.map(
    ([
      tenantId = '',
      tenantName = '',
      month = '',
      resourceType = '',
      quantity = '0',
      unit = '',
      plan = '',
      parentId = '',
      rootId = '',
    ]) => ({
      tenantId: unneutralise(tenantId),
      tenantName: unneutralise(tenantName),
      month,
      resourceType,
      quantity: Number(quantity),
      unit: unneutralise(unit),
      plan,
      parentId: parentId === '' ? null : parentId,
      rootId: rootId === '' ? null : rootId,
    }),
  );
}
