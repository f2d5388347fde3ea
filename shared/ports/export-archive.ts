/** One month's finance export as archived. */
export interface ArchivedExport {
  readonly month: string;
  readonly csv: string;
  readonly lines: readonly ExportLine[];
  readonly closedAt: string;
}

export interface ExportLine {
  readonly tenantId: string;
  readonly tenantName: string;
  /** The month the quantity belongs to; a month before the file's month marks an adjustment. */
  readonly month: string;
  readonly resourceType: string;
  readonly quantity: number;
  readonly unit: string;
  /**
   * The tenant's plan when the line was computed: now for an open month, at the close for a closed
   * one (so the plan at the month's end). Empty in files archived before plans existed.
   */
  readonly plan: string;
  /** The tenant's parent when the line was computed; null for a root. */
  readonly parentId: string | null;
  /**
   * The root of the tenant's hierarchy when the line was computed (the first id of its path; a
   * root's is its own id). Null only in files archived before these columns existed: a roll-up
   * counts such a line under its own tenant.
   */
  readonly rootId: string | null;
}

export interface ArchiveEntry {
  readonly month: string;
  readonly bytes: number;
  readonly closedAt: string;
}

/**
 * Where closed months' exports are kept: the exports bucket in AWS, `<stateDir>/exports/` on the
 * local platform. A month once written is never rewritten (`put` refuses).
 */
export interface ExportArchive {
  /** Writes the month's export; false when the month was already archived (left untouched). */
  put(archived: ArchivedExport): Promise<boolean>;
  get(month: string): Promise<ArchivedExport | null>;
  list(): Promise<ArchiveEntry[]>;
}
