import { parseCsv, toCsv } from '#shared/exports/csv';
import type { ExportLine } from '#shared/ports/export-archive';

export const EXPORT_HEADER = [
  'tenant_id',
  'tenant_name',
  'month',
  'resource_type',
  'quantity',
  'unit',
  // Last, so that readers of the columns before it keep working.
  'plan',
] as const;

/** The header of files archived before plans (issue 15): read with an empty plan. */
const HEADER_WITHOUT_PLAN = EXPORT_HEADER.slice(0, -1).join(',');

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
    ]),
  );
}

/** Undoes the formula-injection prefix of a text cell. */
const unneutralise = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

export function csvToLines(csv: string): ExportLine[] {
  const [header, ...rows] = parseCsv(csv);
  const columns = header?.join(',');
  if (columns !== EXPORT_HEADER.join(',') && columns !== HEADER_WITHOUT_PLAN)
    throw new Error('Not a Tenantry usage export');
  return rows.map(
    ([
      tenantId = '',
      tenantName = '',
      month = '',
      resourceType = '',
      quantity = '0',
      unit = '',
      plan = '',
    ]) => ({
      tenantId: unneutralise(tenantId),
      tenantName: unneutralise(tenantName),
      month,
      resourceType,
      quantity: Number(quantity),
      unit: unneutralise(unit),
      plan,
    }),
  );
}
