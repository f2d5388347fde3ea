import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** No source file outside test/ is longer than this (issue 13, docs/architecture.md). */
export const MAX_SOURCE_LINES = 450;

export interface Layer {
  readonly name: string;
  /** Lower ranks are lower layers: a file may import its own rank or a lower one. */
  readonly rank: number;
  readonly matches: (file: string) => boolean;
}

const under =
  (...folders: string[]) =>
  (file: string) =>
    folders.some((folder) => file.startsWith(`${folder}/`));

/** The layers of docs/architecture.md, lowest first. */
export const LAYERS: readonly Layer[] = [
  {
    name: 'core',
    rank: 0,
    matches: (file) =>
      file === 'shared/errors.ts' ||
      file === 'shared/config.ts' ||
      under('shared/core', 'shared/domain')(file),
  },
  { name: 'contracts', rank: 1, matches: under('shared/ports', 'shared/events') },
  {
    name: 'domain',
    rank: 2,
    matches: under(
      'shared/control',
      'shared/data',
      'shared/tenancy',
      'shared/records',
      'shared/modules',
      'shared/provisioning',
      'shared/exports',
      'shared/backups',
      'shared/compliance',
      'shared/identity',
      'shared/workflows',
    ),
  },
  { name: 'adapters', rank: 3, matches: under('shared/adapters') },
  { name: 'composition', rank: 4, matches: under('shared/composition') },
  { name: 'delivery', rank: 5, matches: under('shared/http', 'shared/routes') },
  { name: 'functions', rank: 6, matches: under('functions') },
  { name: 'cdk', rank: 7, matches: (file) => file.startsWith('infra/') && !file.startsWith('infra/local/') },
  { name: 'local', rank: 8, matches: under('infra/local') },
];

export function layerOf(file: string): Layer | undefined {
  return LAYERS.find((layer) => layer.matches(file));
}

/** Every TypeScript source file under shared/, functions/ and infra/, relative to `root`. */
export function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const relative = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(relative);
      else if (entry.name.endsWith('.ts')) found.push(relative);
    }
  };
  for (const top of ['shared', 'functions', 'infra']) walk(top);
  return found.sort();
}

const SPECIFIER = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g;

/**
 * The project files `file` imports (static, re-exports, type-only and dynamic), resolved the way
 * package.json's subpath imports and relative specifiers resolve; packages are left out.
 */
export function importsOf(root: string, file: string): string[] {
  const text = readFileSync(path.join(root, file), 'utf8');
  const targets = new Set<string>();
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1] ?? match[2] ?? '';
    const resolved = resolve(root, file, specifier);
    if (resolved) targets.add(resolved);
  }
  return [...targets];
}

function resolve(root: string, file: string, specifier: string): string | undefined {
  const alias = /^#(shared|functions|infra)\/(.+)$/.exec(specifier);
  let candidate: string;
  if (alias) candidate = `${alias[1]}/${alias[2]}.ts`;
  else if (specifier.startsWith('.')) candidate = path.posix.join(path.posix.dirname(file), specifier);
  else return undefined;
  if (!candidate.endsWith('.ts')) candidate = `${candidate.replace(/\.js$/, '')}.ts`;
  return existsSync(path.join(root, candidate)) ? candidate : undefined;
}

export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Imports that go from a layer to a higher one, as `from (layer) -> to (layer)`. */
export function upwardImports(graph: ImportGraph): string[] {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const target of imports) {
      const to = layerOf(target);
      if (from && to && to.rank > from.rank) upward.push(`${file} (${from.name}) -> ${target} (${to.name})`);
    }
  }
  return upward;
}

/** Every cycle a depth-first walk meets, as `a -> b -> a`. */
export function importCycles(graph: ImportGraph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    trail.push(file);
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === 'open')
        cycles.push([...trail.slice(trail.indexOf(target)), target].join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    trail.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

/** Lines of a text file as an editor counts them (a final newline ends the last line). */
export function lineCount(text: string): number {
  return text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}
