import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  importCycles,
  importsOf,
  LAYERS,
  layerOf,
  lineCount,
  MAX_SOURCE_LINES,
  sourceFiles,
  upwardImports,
} from '../support/architecture.ts';

// The layer rules of docs/architecture.md, checked on the real import graph (type-only imports
// included: a type import is a dependency a reader has to follow all the same).

const root = path.resolve(import.meta.dirname, '..', '..');
const files = sourceFiles(root);
/** The code of a source file, its comments left out (a comment may name what the code must not do). */
const withoutComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
const graph = new Map(files.map((file) => [file, importsOf(root, file)]));

describe('architecture', () => {
  it('finds the source tree (a guard against checking nothing)', () => {
    // Arrange / Act: the file list above. Assert: every layer has files in it.
    expect(files.length).toBeGreaterThan(150);
    for (const layer of LAYERS) {
      expect(
        files.some((file) => layerOf(file)?.name === layer.name),
        layer.name,
      ).toBe(true);
    }
  });

  it('places every source file in a layer', () => {
    expect(files.filter((file) => layerOf(file) === undefined)).toEqual([]);
  });

  it('imports only from the same or a lower layer', () => {
    expect(upwardImports(graph)).toEqual([]);
  });

  it('has ports that import no concrete module', () => {
    const concrete: string[] = [];
    for (const [file, imports] of graph) {
      if (!file.startsWith('shared/ports/')) continue;
      for (const target of imports) {
        const layer = layerOf(target)?.name;
        if (layer !== 'core' && layer !== 'contracts') concrete.push(`${file} -> ${target}`);
      }
    }
    expect(concrete).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it(`keeps every source file outside test/ within ${MAX_SOURCE_LINES} lines`, () => {
    const long = files
      .map((file) => ({ file, lines: lineCount(readFileSync(path.join(root, file), 'utf8')) }))
      .filter(({ lines }) => lines > MAX_SOURCE_LINES);
    expect(long).toEqual([]);
  });

  it('keeps Lambda entry points at functions/<area>/<verb>-<noun>.ts, each exporting handler', () => {
    const functionsDir = path.join(root, 'functions');
    const misplaced: string[] = [];
    for (const area of readdirSync(functionsDir)) {
      if (!statSync(path.join(functionsDir, area)).isDirectory()) {
        misplaced.push(area);
        continue;
      }
      for (const entry of readdirSync(path.join(functionsDir, area))) {
        const text = readFileSync(path.join(functionsDir, area, entry), 'utf8');
        if (!/^[a-z]+-[a-z-]+\.ts$/.test(entry) || !/export const handler\b/.test(text)) {
          misplaced.push(`${area}/${entry}`);
        }
      }
    }
    expect(misplaced).toEqual([]);
  });

  it('keeps the whole route table out of the handlers: each imports its own route group (bundle size)', () => {
    // Only the OpenAPI document needs every route.
    const importers = [...graph]
      .filter(
        ([file, imports]) => file.startsWith('functions/') && imports.includes('shared/routes/table.ts'),
      )
      .map(([file]) => file);
    expect(importers).toEqual(['functions/platform/get-openapi.ts']);
  });

  it('reports an upward import and a cycle when a graph has them (the checks can fail)', () => {
    // Arrange: core importing an adapter, and two domain modules importing each other.
    const bad = new Map([
      ['shared/core/cursor.ts', ['shared/adapters/pg-sql.ts']],
      ['shared/data/rows.ts', ['shared/data/tables.ts']],
      ['shared/data/tables.ts', ['shared/data/rows.ts']],
    ]);
    // Act / Assert
    expect(upwardImports(bad)).toEqual([
      'shared/core/cursor.ts (core) -> shared/adapters/pg-sql.ts (adapters)',
    ]);
    expect(importCycles(bad)).toEqual([
      'shared/data/rows.ts -> shared/data/tables.ts -> shared/data/rows.ts',
    ]);
    expect(lineCount('a\nb\n')).toBe(2);
    expect(lineCount('a\nb')).toBe(2);
  });

  it('resolves subpath, relative and type-only imports to files', () => {
    expect(importsOf(root, 'shared/http/handler.ts')).toContain('shared/http/middleware.ts');
    expect(importsOf(root, 'infra/local/gateway.ts')).toContain('infra/local/engines/ports.ts');
    expect(importsOf(root, 'shared/ports/tenant-access.ts')).toContain('shared/domain/caller.ts');
  });

  it('has no module-level service locator: nothing installs services for the handlers to find', () => {
    // Handlers get their services as an argument (shared/composition/handler.ts); a locator that
    // tests or the local platform patch must not come back under any name.
    const locators = files.filter((file) =>
      /\binstall(Record|Local)?Services\b|\bexport function (services|recordServices)\(\)/.test(
        readFileSync(path.join(root, file), 'utf8'),
      ),
    );
    expect(locators).toEqual([]);
  });

  it('writes no process.env in shared/ or infra/local/: configuration is passed as objects', () => {
    // Process-level switches of engines and SDKs, never a function's configuration.
    const allowed = new Map([
      ['infra/local/engines/postgres.ts', 'TMPDIR for initdb, restored after it'],
      ['infra/local/engines/quiet-aws-sdk-v2.ts', "silences the v2 SDK's notice (cognito-local uses it)"],
      ['infra/local/start.ts', "silences the SDK's notices in the platform process"],
      ['infra/local/cli.ts', "silences the SDK's notices in the CLI process"],
    ]);
    const write =
      /process\.env(\.\w+|\[[^\]]+\])\s*(=(?!=)|\?\?=|\|\|=)|Object\.assign\(\s*process\.env|delete process\.env/;
    const writers = files.filter(
      (file) =>
        (file.startsWith('shared/') || file.startsWith('infra/local/')) &&
        !allowed.has(file) &&
        write.test(readFileSync(path.join(root, file), 'utf8')),
    );
    expect(writers).toEqual([]);
  });

  it('reads process.env for a function only in the Lambda composition root', () => {
    // The local platform and the tests give the handlers their configuration explicitly.
    const readers = files.filter(
      (file) =>
        (file.startsWith('shared/') || file.startsWith('functions/')) &&
        /process\.env\b/.test(withoutComments(readFileSync(path.join(root, file), 'utf8'))),
    );
    expect(readers.sort()).toEqual([
      'shared/composition/handler.ts',
      'shared/config.ts',
      'shared/core/logger.ts',
    ]);
  });
});
