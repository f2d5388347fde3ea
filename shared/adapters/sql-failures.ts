import { CONSTRAINT_SQLSTATES, type SqlConstraintKind } from '#shared/ports/sql';

const CONSTRAINT_KINDS = new Map(
  Object.entries(CONSTRAINT_SQLSTATES).map(([kind, state]) => [state, kind as SqlConstraintKind]),
);

/** The constraint kind a SQLSTATE reports, if it reports a constraint violation. */
export const constraintKindOf = (sqlState: string | undefined): SqlConstraintKind | undefined =>
  sqlState === undefined ? undefined : CONSTRAINT_KINDS.get(sqlState);

/**
 * Worth a retry: serialization failures, deadlocks, a server out of connection slots or starting
 * up, a connection that dropped.
 */
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '53300',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT']);
const TRANSIENT_MESSAGES =
  /concurrently updated|deadlock detected|could not serialize|too many clients|Connection terminated/;

/**
 * Whether a driver's error is transient, from its own `code` (pg's SQLSTATE, or Node's socket
 * code) and its message ("tuple concurrently updated" has no SQLSTATE of its own).
 */
export function isTransientDriverError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code))) ||
    TRANSIENT_MESSAGES.test(error.message)
  );
}
