import type { Part, PartSink, PartSummary } from '#shared/backups/ndjson-parts';
import { type BackupStore, keySegment } from '#shared/ports/backup-store';

/**
 * Where a table's parts live in the backup store: `<prefix>/<table>/part-00001.ndjson.gz`, the
 * table name encoded as one safe key segment (a name may hold quotes, slashes, dots).
 */
export const partKey = (prefix: string, table: string, index: number): string =>
  `${prefix}/${keySegment(table)}/part-${String(index).padStart(5, '0')}.ndjson.gz`;

export interface TableParts {
  readonly store: BackupStore;
  readonly tenantId: string;
  /** The backup's prefix under the tenant's (`<backupId>/<databaseId>`). */
  readonly prefix: string;
}

/** A sink that writes each part of `table` to the store as it is made. */
export function storeParts(at: TableParts, table: string): PartSink {
  return async (part: Part) => at.store.put(at.tenantId, partKey(at.prefix, table, part.index), part.body);
}

/** One stored part of `table`, or null when it is missing. */
export async function fetchPart(
  at: TableParts,
  table: string,
  part: PartSummary,
): Promise<Uint8Array | null> {
  return at.store.get(at.tenantId, partKey(at.prefix, table, part.index));
}
