import { tableMetadata } from '#shared/data/catalog';
import { MAX_ROW_BYTES, ROW_TOO_LARGE_SQLSTATE } from '#shared/data/row-size';
import { BadRequest, Conflict, RowTooLarge } from '#shared/errors';
import { SqlConstraintViolation, sqlFailureOf } from '#shared/ports/sql';

/**
 * Errors a tenant's data can cause → 4xx; a table changed by another process → 409 and a fresh
 * read of its description next time. Anything else is rethrown (a 500). `row`: the index of the
 * row of a batch that broke the constraint, when it is known (named in the message and the body).
 */
export function rowConflict(error: unknown, databaseId: string, table: string, row?: number): never {
  if (error instanceof SqlConstraintViolation) {
    const at = row === undefined ? {} : { row };
    const prefix = row === undefined ? '' : `Row ${row}: `;
    const suffix = row === undefined ? '' : '; nothing was written';
    if (error.kind === 'unique')
      throw new Conflict(`${prefix}A row with this value already exists${suffix}`, {
        reason: 'unique',
        constraint: error.constraint,
        ...at,
      });
    if (error.kind === 'foreign_key')
      throw new Conflict(`${prefix}The row refers to a missing row, or other rows refer to it${suffix}`, {
        reason: 'foreign_key',
        constraint: error.constraint,
        ...at,
      });
    throw new BadRequest(`${prefix}The row violates a ${error.kind.replace('_', '-')} constraint${suffix}`, {
      reason: error.kind,
      constraint: error.constraint,
      ...at,
    });
  }
  const state = sqlFailureOf(error)?.sqlState;
  if (state === '42703' || state === '42P01' || state === '42804') {
    tableMetadata.invalidate(databaseId, table);
    throw new Conflict('The table changed while the request ran; try again', { reason: 'table_changed' });
  }
  if (state === '42501')
    throw new Conflict('The tenant role may not change this table', { reason: 'insufficient_privilege' });
  if (state === ROW_TOO_LARGE_SQLSTATE)
    throw new RowTooLarge(
      `The row would be larger than ${MAX_ROW_BYTES} bytes (its JSON); nothing was written`,
      {
        limitBytes: MAX_ROW_BYTES,
      },
    );
  if (state?.startsWith('22'))
    throw new BadRequest('A value is out of range for its column', { reason: 'data_exception' });
  throw error;
}
