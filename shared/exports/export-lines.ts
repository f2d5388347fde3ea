import { parseCsv, toCsv } from '#shared/exports/csv';
import type { ExportLine } from '#shared/ports/export-archive';

export const EXPORT_HEADER = [
  'tenant_id',
  'tenant_name',
  'month',
  'resource_type',
  'quantity',
  'unit',
] as const;

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
    ]),
  );
}

/** Undoes the formula-injection prefix of a text cell. */
const unneutralise = (cell: string) => (/^'[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell);

export function csvToLines(csv: string): ExportLine[] {
  const [header, ...rows] = parseCsv(csv);
  if (!header || header.join(',') !== EXPORT_HEADER.join(',')) throw new Error('Not a Tenantry usage export');
  return rows.map(
    ([tenantId = '', tenantName = '', month = '', resourceType = '', quantity = '0', unit = '']) => ({
      tenantId: unneutralise(tenantId),
      tenantName: unneutralise(tenantName),
      month,
      resourceType,
      quantity: Number(quantity),
      unit: unneutralise(unit),
    }),
  );
}
