/**
 * The console on the local platform: web/dist served as CloudFront serves it from its bucket
 * (docs/console-hosting.md) — the files, `/config.json` written for this platform, any other path
 * answered with index.html (the single-page app's routes), and the same security headers.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import path from 'node:path';
import { CONSOLE_SECURITY_HEADERS, consoleContentSecurityPolicy } from '#shared/http/console-headers';
import { serverStop } from './engines/http-server.ts';
import { LOOPBACK, listenOnLoopback } from './engines/ports.ts';

/** What the console reads from /config.json (web/src/config.ts). */
export interface ConsoleRuntimeConfig {
  readonly apiUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly cognitoEndpoint: string;
}

export interface ConsoleServer {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The origins a browser may give the console at `port`: the loopback address and its name. */
export const consoleOrigins = (port: number) => [`http://${LOOPBACK}:${port}`, `http://localhost:${port}`];

/** The built console: `npm run web:build` writes it (npm start and npm test run that first). */
export const CONSOLE_DIST = path.resolve(import.meta.dirname, '..', '..', 'web', 'dist');

const HTML = 'text/html; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

const TYPES: Readonly<Record<string, string>> = {
  '.html': HTML,
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': JSON_TYPE,
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': TEXT,
};

export async function startConsoleServer(options: {
  readonly port: number;
  /** Read on each request: the API's URL is known only once the gateway listens. */
  readonly config: () => ConsoleRuntimeConfig;
  readonly distDir?: string;
}): Promise<ConsoleServer> {
  const dist = options.distDir ?? CONSOLE_DIST;
  const headers = (type: string) => {
    const config = options.config();
    return {
      'content-type': type,
      'content-security-policy': consoleContentSecurityPolicy(config),
      ...CONSOLE_SECURITY_HEADERS,
    };
  };
  const send = (
    response: ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    cache = 'no-cache',
  ) => {
    response.writeHead(status, { ...headers(type), 'cache-control': cache });
    response.end(body);
  };

  const server = createServer((request, response) => {
    const answer = async () => {
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        send(response, 405, TEXT, 'Method Not Allowed');
        return;
      }
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://console').pathname);
      } catch {
        send(response, 400, TEXT, 'Bad Request: the path is not valid percent-encoding');
        return;
      }
      if (pathname === '/config.json') {
        send(response, 200, JSON_TYPE, JSON.stringify(options.config()), 'no-store');
        return;
      }
      if (!existsSync(path.join(dist, 'index.html'))) {
        send(response, 503, TEXT, 'The console is not built: run npm run web:build (npm start does).');
        return;
      }
      // Never outside the folder: `..` and absolute segments resolve to the app's index.html.
      const file = path.resolve(dist, `.${path.posix.normalize(pathname)}`);
      const inside = file.startsWith(`${dist}${path.sep}`);
      const found = inside && (await stat(file).catch(() => undefined))?.isFile();
      if (found) {
        const immutable = file.startsWith(path.join(dist, 'assets') + path.sep);
        send(
          response,
          200,
          TYPES[path.extname(file)] ?? 'application/octet-stream',
          await readFile(file),
          immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
        return;
      }
      // CloudFront's custom error response: the bucket's 403/404 becomes index.html with 200.
      send(response, 200, HTML, await readFile(path.join(dist, 'index.html')));
    };
    answer().catch(() => {
      if (!response.headersSent) send(response, 500, TEXT, 'Internal Server Error');
      else response.destroy();
    });
  });
  const port = await listenOnLoopback(server, options.port, 'console');
  const stop = serverStop(server, { forceCloseAfterMs: 1_000 });
  return { url: `http://${LOOPBACK}:${port}`, port, stop };
}
