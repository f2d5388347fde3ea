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
  readonly postgres: PostgresHandle;
  readonly dynamo: DynamoHandle;
}

/** Starts PostgreSQL and DynamoDB together; the stop of each one that started is in `stops`. */
export async function startStorageEngines(
  stateDir: string,
  ports: { readonly postgres: number; readonly dynamodb: number },
  stops: Stops,
): Promise<StorageEngines> {
  // Started together; whichever started is stopped again if the other one failed.
  const [postgresStart, dynamoStart] = await Promise.allSettled([
    startPostgres({ dataDir: path.join(stateDir, 'postgres'), port: ports.postgres }),
    startDynamo({ dataDir: path.join(stateDir, 'dynamodb'), port: ports.dynamodb, thread: true }),
  ]);
  for (const started of [postgresStart, dynamoStart])
    if (started.status === 'fulfilled') stops.push(started.value.stop);
  if (postgresStart.status === 'rejected') throw postgresStart.reason;
  if (dynamoStart.status === 'rejected') throw dynamoStart.reason;
  const [postgres, dynamo] = [postgresStart.value, dynamoStart.value];
  return { postgres, dynamo };
}

/** Writes the endpoints file clients read (owner-only: it holds the postgres password). */
export async function publishPlatformInfo(info: PlatformInfo, stops: Stops): Promise<void> {
  const infoFile = platformInfoFile(info.stateDir);
  await writeFile(infoFile, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await chmod(infoFile, 0o600);
  stops.pushLast(() => rm(infoFile, { force: true }));
}
