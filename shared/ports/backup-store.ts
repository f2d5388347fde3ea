/**
 * Where backups are kept: the export bucket under `backups/<tenantId>/` in AWS, the state folder's
 * `backups/<tenantId>/` on the local platform. Every call names the tenant, and an adapter only
 * ever builds keys under that tenant's prefix, so one tenant's backup code cannot read or delete
 * another's objects by a key it was handed.
 */
export interface BackupObject {
  /** The key relative to the tenant's prefix (`<backupId>/<database>/<table>/part-00001.ndjson.gz`). */
  readonly key: string;
  readonly bytes: number;
}

export interface BackupStore {
  /** Writes (or replaces) one object. */
  put(tenantId: string, key: string, body: Uint8Array): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(tenantId: string, key: string): Promise<Uint8Array | null>;
  /** The tenant's objects whose key starts with `prefix`, by key. */
  list(tenantId: string, prefix: string): Promise<BackupObject[]>;
  /** Deletes these objects; keys that do not exist are ignored. */
  delete(tenantId: string, keys: readonly string[]): Promise<void>;
}

const TENANT_ID = /^t_[a-z2-7]{20}$/;
/** One key segment: no empty segment, no `.`/`..`, nothing a file system or S3 reads specially. */
const SEGMENT = /^[A-Za-z0-9_%+=@-][A-Za-z0-9_.%+=@-]{0,199}$/;

/**
 * Checks a tenant id and a relative key before an adapter turns them into a path or an S3 key:
 * the file adapter must never leave the tenant's folder (`..`), the S3 adapter never its prefix.
 * A bad key is a programming error (keys are built by the engine, never taken from a request).
 */
export function checkedKey(tenantId: string, key: string, { prefix = false } = {}): string {
  if (!TENANT_ID.test(tenantId)) throw new Error('backup store: not a tenant id');
  if (prefix && key === '') return key;
  const segments = (prefix && key.endsWith('/') ? key.slice(0, -1) : key).split('/');
  if (!segments.every((segment) => SEGMENT.test(segment) && segment !== '..' && segment !== '.')) {
    throw new Error('backup store: refusing an unsafe key');
  }
  return key;
}

/** A table name as one key segment: any name (quotes, slashes, dots, unicode) becomes safe and reversible. */
export const keySegment = (name: string): string =>
  encodeURIComponent(name).replace(/[.!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
