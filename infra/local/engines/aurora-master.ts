/**
 * The local cluster's master user, as Aurora PostgreSQL makes it: not a superuser, but
 * `LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE` and a member of `rds_superuser`.
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html
 *
 * `rds_superuser` is modelled by what that page says it allows and PostgreSQL's predefined roles
 * give: seeing every connection in `pg_stat_activity` and ending them (`pg_read_all_stats`,
 * `pg_signal_backend`). Extensions, replication and `rds_password` are not modelled: nothing of
 * ours uses them. Everything the platform's own code runs as the master (migrations, the saga,
 * handlers) therefore meets Aurora's limits; only what RDS itself does when it creates the
 * cluster (this file, the `control` database) runs as the engine's superuser.
 */
import pg from 'pg';

/** The CDK app's master username (infra/stacks/stateful-stack.ts). */
export const MASTER_USER = 'tenantry_admin';

export interface MasterCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * Creates `rds_superuser` and the master role once, and sets the master's password to `password`
 * on every start (the secret is the source of truth, as after a rotation in AWS).
 */
export async function ensureAuroraMaster(superuserUrl: string, password: string): Promise<MasterCredentials> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const quoted = `'${password.replaceAll("'", "''")}'`;
    await client.query(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'rds_superuser') then
        create role rds_superuser nologin;
      end if;
      if not exists (select 1 from pg_roles where rolname = '${MASTER_USER}') then
        create role ${MASTER_USER} login nosuperuser inherit createdb createrole noreplication;
      end if;
    end $$`);
    await client.query('grant pg_read_all_stats, pg_signal_backend to rds_superuser');
    await client.query(`grant rds_superuser to ${MASTER_USER}`);
    await client.query(`alter role ${MASTER_USER} with nosuperuser login password ${quoted}`);
    // On RDS the master can take CONNECT on `postgres` away from PUBLIC (the saga does, as
    // http://www.asheiduk.de/post/setup-pg-on-rds/ does on RDS), so it is the database's owner.
    await client.query(`alter database postgres owner to ${MASTER_USER}`);
    return { user: MASTER_USER, password };
  } finally {
    await client.end();
  }
}

/**
 * Creates a database once, owned by the master, as RDS creates the cluster's default database
 * (`defaultDatabaseName`) owned by the master user. What the master may then do in it is the
 * migrations' business, run as the master (not a superuser). The local platform's `control`
 * database is made so, and so is each saga test harness's own control database.
 */
export async function ensureMasterOwnedDatabase(
  superuserUrl: string,
  database: string,
  owner: string = MASTER_USER,
): Promise<void> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}" owner ${owner}`);
    const owned = await client.query<{ owner: string }>(
      'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
      [database],
    );
    if (owned.rows[0]?.owner !== owner) {
      throw new Error(
        `The local ${database} database belongs to ${owned.rows[0]?.owner}, not the master ${owner}: it was made by an older version of the local platform. Run \`npm run reset\` to start from an empty state.`,
      );
    }
  } finally {
    await client.end();
  }
}
