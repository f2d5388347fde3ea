import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { csvToLines } from '#shared/exports/export-lines';
import type { ArchivedExport, ArchiveEntry, ExportArchive } from '#shared/ports/export-archive';

const FILE = /^(\d{4}-\d{2})\.csv$/;

/** The local platform's export archive: `<dir>/<YYYY-MM>.csv`, created once, never overwritten. */
export class FileExportArchive implements ExportArchive {
  constructor(private readonly dir: string) {}

  async put(archived: ArchivedExport): Promise<boolean> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, `${archived.month}.csv`);
    try {
      // `wx`: exclusive create, so a closed month is immutable even against a second job run.
      await writeFile(file, archived.csv, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    // The file's mtime is its closedAt (as S3 keeps it in the object's metadata), so every later
    // read answers the instant this close recorded, not the write's.
    const closedAt = new Date(archived.closedAt);
    await utimes(file, closedAt, closedAt);
    return true;
  }

  async get(month: string): Promise<ArchivedExport | null> {
    const file = path.join(this.dir, `${month}.csv`);
    try {
      const [csv, info] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
      return { month, csv, lines: csvToLines(csv), closedAt: info.mtime.toISOString() };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async list(): Promise<ArchiveEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const entries: ArchiveEntry[] = [];
    for (const name of names) {
      const month = FILE.exec(name)?.[1];
      if (!month) continue;
      const info = await stat(path.join(this.dir, name));
      entries.push({ month, bytes: info.size, closedAt: info.mtime.toISOString() });
    }
    return entries.sort((a, b) => b.month.localeCompare(a.month));
  }
}
