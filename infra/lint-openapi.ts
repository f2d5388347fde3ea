/**
 * `npm run lint:openapi`: writes the OpenAPI document the API serves (GET /openapi.json) to a
 * temporary folder, lints it with Redocly's recommended rules (redocly.yaml: recommended-strict,
 * so a warning fails too) and removes the folder. Exits with Redocly's status.
 *
 * Offline: the document has no external $ref, and telemetry, update and other notices (Redocly's
 * only network calls for `lint`) are switched off.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openApiDocument } from '#shared/routes/openapi';
import { routeList } from '#shared/routes/table';

const repoRoot = path.resolve(import.meta.dirname, '..');
const folder = mkdtempSync(path.join(os.tmpdir(), 'tenantry-openapi-'));
let status = 1;
try {
  const file = path.join(folder, 'openapi.json');
  writeFileSync(file, `${JSON.stringify(openApiDocument(routeList), null, 2)}\n`);
  const lint = spawnSync(
    path.join(repoRoot, 'node_modules', '.bin', 'redocly'),
    ['lint', file, '--config', path.join(repoRoot, 'redocly.yaml'), '--format', 'stylish'],
    {
      stdio: 'inherit',
      env: {
        ...process.env,
        REDOCLY_TELEMETRY: 'off',
        REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
        REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
      },
    },
  );
  if (lint.error) console.error(lint.error.message);
  status = lint.status ?? 1;
} finally {
  rmSync(folder, { recursive: true, force: true });
}
process.exit(status);
