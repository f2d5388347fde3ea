/**
 * The stand-in's PostgreSQL connections: one small pool per (user, database, password), each
 * logging in as the user the secret names, so PostgreSQL's own roles and `CONNECT` grants decide
 * what a caller may do, as they do behind the real Data API. Sessions run in UTC ("Data API always
 * returns the Aurora PostgreSQL data type TIMESTAMPTZ in UTC time zone",
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.html#data-api-operations).
 */
import pg from 'pg';

export interface Login {
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export interface PoolSettings {
  readonly host: string;
  readonly port: number;
  readonly max: number;
  readonly idleMs: number;
}

/** Every value as PostgreSQL printed it: the result encoder decides per column type. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export class PostgresPools {
  readonly #pools = new Map<string, { pool: pg.Pool; database: string }>();

  constructor(private readonly settings: PoolSettings) {}

  /** A connection for `login`; the caller releases it. Login failures reject with PostgreSQL's error. */
  async connect(login: Login): Promise<pg.PoolClient> {
    return this.#poolFor(login).connect();
  }

  #poolFor(login: Login): pg.Pool {
    const key = JSON.stringify([login.user, login.database, login.password]);
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      const pool = new pg.Pool({
        host: this.settings.host,
        port: this.settings.port,
        user: login.user,
        password: login.password,
        database: login.database,
        max: this.settings.max,
        idleTimeoutMillis: this.settings.idleMs,
        allowExitOnIdle: true,
        application_name: 'rds-data-api (local)',
        options: '-c TimeZone=UTC',
        types: RAW_TEXT,
      });
      // An idle connection dropped by the server must not crash the process.
      pool.on('error', () => {});
      entry = { pool, database: login.database };
      this.#pools.set(key, entry);
    }
    return entry.pool;
  }

  /** Closes every pool on `database` (DROP DATABASE needs it to have no connections). */
  async release(database: string): Promise<void> {
    const ending: Promise<void>[] = [];
    for (const [key, entry] of this.#pools) {
      if (entry.database !== database) continue;
      this.#pools.delete(key);
      ending.push(entry.pool.end());
    }
    await Promise.all(ending);
  }

  async closeAll(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((entry) => entry.pool.end()));
  }
}
