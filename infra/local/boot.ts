/**
 * Boot and shutdown of the local platform: its state folder, the storage engines started first,
 * the endpoints file written last, and the stops of whatever has started, run in reverse on
 * shutdown and on a boot that failed halfway.
 */
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type DynamoHandle, startDynamo } from './engines/dynamodb.ts';
import { type PostgresHandle, startPostgres } from './engines/postgres.ts';
import { type PlatformInfo, platformInfoFile, stateMarkerFile } from './platform-info.ts';

/** The stops of everything started so far; the last started is stopped first. */
export class Stops {
  private readonly stops: Array<() => Promise<void>> = [];

  push(stop: () => Promise<void>): void {
    this.stops.push(stop);
  }

  /** Runs after every other stop (the endpoints file stays until the platform is down). */
  pushLast(stop: () => Promise<void>): void {
    this.stops.unshift(stop);
  }

  /** Stops everything, each stop's failure ignored so the rest still run; a second call is a no-op. */
  async stopAll(): Promise<void> {
    const stops = this.stops;
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  }
}

/** Creates the state folder (private to this user) and marks it as ours for `npm run reset`. */
export async function prepareStateDir(requested: string): Promise<string> {
  const stateDir = path.resolve(requested);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFile(
    stateMarkerFile(stateDir),
    'A Tenantry local platform state folder (npm run reset deletes it).\n',
  );
  return stateDir;
}

export interface StorageEngines {
  /** The first cluster's server (`primary`: the control database). */
  readonly postgres: PostgresHandle;
  /** The other clusters' servers, by cluster id, in the order asked for. */
  readonly morePostgres: ReadonlyMap<string, PostgresHandle>;
  readonly dynamo: DynamoHandle;
}

/**
 * Where a cluster's PostgreSQL keeps its data: the first cluster where the one cluster always has
 * (`postgres/`, so an existing state folder keeps its databases), every other one under
 * `clusters/<id>/postgres/`.
 */
export const postgresDirOf = (stateDir: string, clusterId: string | undefined) =>
  clusterId === undefined
    ? path.join(stateDir, 'postgres')
    : path.join(stateDir, 'clusters', clusterId, 'postgres');

/**
 * Starts PostgreSQL (one server per cluster) and DynamoDB together, so that more clusters cost
 * little more boot time; the stop of each one that started is in `stops`.
 */
export async function startStorageEngines(
  stateDir: string,
  ports: { readonly postgres: number; readonly dynamodb: number },
  stops: Stops,
  moreClusters: readonly string[] = [],
): Promise<StorageEngines> {
  // Started together; whichever started is stopped again if another one failed.
  const [postgresStart, dynamoStart, ...moreStarts] = await Promise.allSettled([
    startPostgres({ dataDir: postgresDirOf(stateDir, undefined), port: ports.postgres }),
    startDynamo({ dataDir: path.join(stateDir, 'dynamodb'), port: ports.dynamodb, thread: true }),
    // Free ports: only the first server's is fixed (`--postgres-port`).
    ...moreClusters.map((id) => startPostgres({ dataDir: postgresDirOf(stateDir, id), port: 0 })),
  ]);
  const all = [postgresStart, dynamoStart, ...moreStarts];
  for (const started of all) if (started.status === 'fulfilled') stops.push(started.value.stop);
  for (const started of all) if (started.status === 'rejected') throw started.reason;
  const value = <T>(started: PromiseSettledResult<T> | undefined): T =>
    (started as PromiseFulfilledResult<T>).value;
  return {
    postgres: value(postgresStart),
    dynamo: value(dynamoStart),
    morePostgres: new Map(moreClusters.map((id, i) => [id, value(moreStarts[i]) as PostgresHandle])),
  };
}

/** Writes the endpoints file clients read (owner-only: it holds the postgres password). */
export async function publishPlatformInfo(info: PlatformInfo, stops: Stops): Promise<void> {
  const infoFile = platformInfoFile(info.stateDir);
  await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await chmod(infoFile, 0o600);
  stops.pushLast(() => rm(infoFile, { force: true }));
}
