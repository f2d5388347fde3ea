import * as z from 'zod';
import type { TableInfo } from '#shared/data/catalog';
import { valueSchema } from '#shared/data/column-types';

/**
 * Every write is checked by a zod schema built from the table's columns (from the catalog, cached
 * a few seconds): system columns cannot be written, required columns must be given.
 */
const writeSchemas = new WeakMap<TableInfo, { insert: z.ZodType; patch: z.ZodType }>();

/** The insert and patch schemas of a table, made once per description. */
export function writeSchemasOf(table: TableInfo) {
  const cached = writeSchemas.get(table);
  if (cached) return cached;
  const insertShape: Record<string, z.ZodType> = {};
  const patchShape: Record<string, z.ZodType> = {};
  for (const column of table.columns.filter((c) => !c.system)) {
    const value = valueSchema(column.type);
    const nullable = column.nullable ? value.nullable() : value;
    insertShape[column.name] = column.nullable || column.hasDefault ? nullable.optional() : nullable;
    patchShape[column.name] = nullable.optional();
  }
  const schemas = {
    insert: z.strictObject(insertShape),
    patch: z
      .strictObject(patchShape)
      .refine((patch) => Object.keys(patch).length > 0, { message: 'nothing to change' }),
  };
  writeSchemas.set(table, schemas);
  return schemas;
}
