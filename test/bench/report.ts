import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface Figure {
  /** Which of the report's questions this answers, e.g. "3. Rows page p50". */
  readonly group: string;
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** The same measurement's baseline, run in the same process or run. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** value / baseline: what the budgets are about, since absolute times vary with the machine. */
  readonly ratio?: number;
  readonly budget?: { readonly text: string; readonly met: boolean };
  readonly note?: string;
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

/** Writes docs/benchmarks.md (a table a person reads) and docs/benchmarks.json (for tools). */
export async function writeReport(
  docsDir: string,
  figures: readonly Figure[],
  notes: readonly string[],
): Promise<void> {
  const host = machine();
  // By figure number (measurement order differs: the platform figures share one boot).
  const ordered = [...figures].sort((a, b) => Number.parseInt(a.group, 10) - Number.parseInt(b.group, 10));
  const rows = ordered.map((f) =>
    [
      f.group,
      f.name,
      `${f.value} ${f.unit}`,
      f.baseline ? `${f.baseline.value} ${f.unit} (${f.baseline.name})` : '—',
      f.ratio === undefined ? '—' : `${f.ratio}×`,
      f.budget ? `${f.budget.text} ${f.budget.met ? '✅' : '❌'}` : '—',
      f.note ?? '',
    ]
      .map(cell)
      .join(' | '),
  );
  const missed = figures.filter((f) => f.budget && !f.budget.met);
  const markdown = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (test/bench/). Every timing is a median of several runs after a warm-up;',
    'every comparison is a ratio against a baseline measured in the same run, because the machines are',
    'shared and noisy. Budgets are from the issues.',
    '',
    `Machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB, Node ${host.node}, ${host.platform}; run ${host.date}.`,
    '',
    '| figure | measure | value | baseline | ratio | budget | note |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
    '',
    missed.length === 0
      ? 'Every budget is met.'
      : `Budgets missed: ${missed.map((f) => `${f.group} ${f.name}`).join('; ')}.`,
    '',
    ...(notes.length > 0 ? ['## Notes', '', ...notes.map((n) => `- ${n}`), ''] : []),
  ].join('\n');
  await writeFile(path.join(docsDir, 'benchmarks.md'), markdown);
  await writeFile(
    path.join(docsDir, 'benchmarks.json'),
    `${JSON.stringify({ machine: host, figures, notes }, null, 2)}\n`,
  );
}
