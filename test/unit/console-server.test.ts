import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleServer, startConsoleServer } from '#infra/local/console-server';

const CONFIG = {
  apiUrl: 'http://127.0.0.1:3000',
  region: 'eu-west-1',
  userPoolId: 'eu-west-1_abc',
  clientId: 'client',
  cognitoEndpoint: 'http://127.0.0.1:9229',
};

function rawGet(port: number, route: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: route }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('the local console server', () => {
  let folder: string;
  let server: ConsoleServer;
  let unbuilt: ConsoleServer;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'tenantry-console-'));
    const dist = path.join(folder, 'dist');
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    await writeFile(path.join(dist, 'index.html'), '<div id="root"></div>');
    await writeFile(path.join(dist, 'assets', 'app-1234.js'), 'console.log(1)');
    await writeFile(path.join(folder, 'secret.txt'), 'outside the folder');
    server = await startConsoleServer({ port: 0, config: () => CONFIG, distDir: dist });
    unbuilt = await startConsoleServer({ port: 0, config: () => CONFIG, distDir: path.join(folder, 'none') });
  });

  afterAll(async () => {
    await server?.stop();
    await unbuilt?.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('serves the files, assets as immutable, with the CSP naming the API and Cognito origins', async () => {
    const asset = await fetch(`${server.url}/assets/app-1234.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const csp = asset.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("connect-src 'self' http://127.0.0.1:3000 http://127.0.0.1:9229");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers /config.json with the platform values, uncached', async () => {
    const response = await fetch(`${server.url}/config.json`);
    expect(await response.json()).toEqual(CONFIG);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an app route, a missing file and a path out of the folder with index.html, never the file outside', async () => {
    // Sent as they are (fetch would normalise the dots away): node:http keeps the path verbatim.
    for (const route of [
      '/t/t_x/members',
      '/assets/missing.js',
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
    ]) {
      const { status, body } = await rawGet(server.port, route);
      expect(status).toBe(200);
      expect(body).toBe('<div id="root"></div>');
    }
  });

  it('refuses writes (405) and a malformed path (400), and says how to build the console when it is not built (503)', async () => {
    expect((await fetch(`${server.url}/`, { method: 'POST' })).status).toBe(405);
    expect((await rawGet(server.port, '/%E0%A4%A')).status).toBe(400);
    const response = await fetch(`${unbuilt.url}/`);
    expect(response.status).toBe(503);
    expect(await response.text()).toContain('npm run web:build');
  });
});
