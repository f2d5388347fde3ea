import * as z from 'zod';

/**
 * How a tenant's data is kept apart (docs/isolation-modes.md): `silo`, a PostgreSQL database, login
 * role and secret of its own per tenant database; `pool`, a schema of its own per tenant database
 * inside its cluster's shared pool database, owned by a NOLOGIN role of the tenant that the pool's
 * login role switches to for each transaction.
 */
export const ISOLATION_MODES = ['silo', 'pool'] as const;
export type Isolation = (typeof ISOLATION_MODES)[number];
export const isolationSchema = z.enum(ISOLATION_MODES);

/** What a plan that says nothing gives, and what every tenant had before plans could say. */
export const DEFAULT_ISOLATION: Isolation = 'silo';

/** A tenant database's isolation from its placement: a pooled one has a schema, a silo one none. */
export const isolationOfSchema = (schemaName: string | null): Isolation =>
  schemaName === null ? 'silo' : 'pool';
