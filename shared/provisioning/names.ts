import { DATABASE_ID_PATTERN, TENANT_ID_PATTERN } from '#shared/control/ids';

export class UnsafeIdentifier extends Error {
  constructor(value: string) {
    super(`Refusing to use ${JSON.stringify(value)} as an identifier`);
    this.name = 'UnsafeIdentifier';
  }
}

function suffix(id: string, pattern: RegExp): string {
  if (!pattern.test(id)) throw new UnsafeIdentifier(id);
  return id.slice(2);
}

/**
 * Names derived from opaque ids, never from anything a tenant typed: they only ever contain
 * `[a-z2-7_]`, and are still quoted wherever they appear in SQL.
 */
export const roleNameFor = (tenantId: string) => `tenant_${suffix(tenantId, TENANT_ID_PATTERN)}`;
export const databaseNameFor = (databaseId: string) => `db_${suffix(databaseId, DATABASE_ID_PATTERN)}`;
export const secretNameFor = (stage: string, tenantId: string) =>
  `tenantry/${stage}/tenants/${suffix(tenantId, TENANT_ID_PATTERN) && tenantId}`;

/** The tag that scopes who may read a tenant's secret (IAM condition on the resource tag). */
export const TENANT_TAG = 'tenantry:tenant-id';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
export function quoteIdentifier(name: string): string {
  if (!SAFE_IDENTIFIER.test(name)) throw new UnsafeIdentifier(name);
  return `"${name}"`;
}
