import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PortInUse } from '#infra/local/engines/errors';
import { type PostgresHandle, startPostgres } from '#infra/local/engines/postgres';

const execFileAsync = promisify(execFile);

async function query(handle: PostgresHandle, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client(handle.connectionString());
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/** pids of processes whose command line mentions `text` (pgrep exits 1 when there are none). */
async function processesMentioning(text: string): Promise<string[]> {
  try {
    const { stdout } = await execFileAsync('pgrep', ['-f', text]);
    return stdout.split('\n').filter(Boolean);
  } catch (error) {
    if ((error as { code?: number }).code === 1) return [];
    throw error;
  }
}

describe('embedded PostgreSQL engine', () => {
  let root: string;
  let dataDir: string;
  const handles: PostgresHandle[] = [];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'tenantry-pg-'));
    dataDir = path.join(root, 'postgres');
  });

  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.stop()));
    await rm(root, { recursive: true, force: true });
  });

  it('initialises a cluster that answers on 127.0.0.1 only', async () => {
    const handle = await startPostgres({ dataDir, port: 0 });
    handles.push(handle);
    expect(handle.host).toBe('127.0.0.1');
    expect(handle.port).toBeGreaterThan(0);
    expect(handle.timings.initdbMs).toBeGreaterThan(0);

    const result = await query(handle, `select 1 as one, current_setting('listen_addresses') as listen`);
    expect(result.rows).toEqual([{ one: 1, listen: '127.0.0.1' }]);
    await handle.stop();
  });

  it('keeps data across a restart without running initdb again', async () => {
    const first = await startPostgres({ dataDir, port: 0 });
    handles.push(first);
    await query(first, 'create table kept (id int primary key, label text)');
    await query(first, `insert into kept values (1, 'survives')`);
    await first.stop();

    const second = await startPostgres({ dataDir, port: 0 });
    handles.push(second);
    expect(second.timings.initdbMs).toBe(0);
    expect(second.password).toBe(first.password);
    const result = await query(second, 'select id, label from kept');
    expect(result.rows).toEqual([{ id: 1, label: 'survives' }]);
    await second.stop();
  });

  it('leaves no postgres process behind after stop', async () => {
    const handle = await startPostgres({ dataDir, port: 0 });
    handles.push(handle);
    expect(await processesMentioning(dataDir)).not.toEqual([]);
    await handle.stop();
    expect(await processesMentioning(dataDir)).toEqual([]);
  });

  it('keeps the superuser password private and leaves no password file in the temp folder', async () => {
    const passwordFile = await stat(path.join(dataDir, 'superuser-password'));
    expect(passwordFile.mode & 0o777).toBe(0o600);
    const folder = await stat(dataDir);
    expect(folder.mode & 0o077).toBe(0);
    expect(await readdir(path.join(dataDir, 'tmp'))).toEqual([]);
  });

  it('reports a busy port as PortInUse naming the port and the engine', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    try {
      const attempt = startPostgres({ dataDir, port: address.port });
      await expect(attempt).rejects.toBeInstanceOf(PortInUse);
      await expect(attempt).rejects.toThrow(`postgres: port ${address.port}`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect(await processesMentioning(dataDir)).toEqual([]);
  });
});
