import type { SqlRunner } from '#shared/ports/sql';
import { quoteIdentifier } from '#shared/provisioning/names';

/**
 * The control database's application role: what the API handlers, triggers and jobs log in as
 * (its own secret, `CONTROL_SECRET_ARN`), never the master. It may read and write the control
 * tables' rows and nothing else: it owns no table (the master's migrations do), so it cannot
 * alter or drop them; it has no CREATE on any schema, no CREATEROLE or CREATEDB, and CONNECT on
 * the control database only (the saga revokes CONNECT from PUBLIC on every other one).
 */
export const CONTROL_APP_USER = 'tenantry_app';

export interface ApplicationRoleCredentials {
  readonly username: string;
  readonly password: string;
}

/** Serialises concurrent runs with the migrations' own lock (shared/control/migrate.ts). */
const APPLICATION_ROLE_LOCK = 7_262_901;

/**
 * A password as a SQL string literal: DDL takes no bind parameters. Quotes are doubled; control
 * characters (never in a generated password) are refused rather than escaped.
 */
export function passwordLiteral(password: string, secret = 'The control application secret'): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point.
  if (password.length < 8 || /[\u0000-\u001f\u007f]/.test(password)) {
    throw new Error(`${secret} holds no usable password`);
  }
  return `'${password.replaceAll("'", "''")}'`;
}

/**
 * Run as the master, after the migrations, in the control database: makes the role once, sets its
 * password to the secret's on every run (a rotated secret takes effect on the next deploy), and
 * grants it the rows of every control table the migrations made — read-only on the migrations'
 * own bookkeeping.
 */
export async function ensureApplicationRole(
  master: SqlRunner,
  credentials: ApplicationRoleCredentials,
  controlDatabase: string,
): Promise<void> {
  if (credentials.username !== CONTROL_APP_USER) {
    throw new Error(`The control application secret is for ${credentials.username}, not ${CONTROL_APP_USER}`);
  }
  const role = quoteIdentifier(CONTROL_APP_USER);
  const password = passwordLiteral(credentials.password);
  await master.transaction(async (tx) => {
    await tx.query('select 1 as locked from pg_advisory_xact_lock(:lock)', { lock: APPLICATION_ROLE_LOCK });
    const exists = await tx.query('select 1 from pg_roles where rolname = :name', { name: CONTROL_APP_USER });
    if (exists.length === 0) await tx.execute(`create role ${role} login password ${password}`);
    // Only a superuser may name SUPERUSER or REPLICATION, even to deny them; a role the master
    // made has neither (https://www.postgresql.org/docs/17/sql-alterrole.html).
    await tx.execute(`alter role ${role} with login nocreatedb nocreaterole password ${password}`);
    await tx.execute(`grant connect on database ${quoteIdentifier(controlDatabase)} to ${role}`);
    await tx.execute(`grant usage on schema public to ${role}`);
    await tx.execute(`revoke create on schema public from ${role}`);
    await tx.execute(`grant select, insert, update, delete on all tables in schema public to ${role}`);
    await tx.execute(`revoke insert, update, delete, truncate on schema_migrations from ${role}`);
    await tx.execute(`grant usage, select on all sequences in schema public to ${role}`);
  });
}
