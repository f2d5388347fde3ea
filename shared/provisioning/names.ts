import { DATABASE_ID_PATTERN, TENANT_ID_PATTERN } from '#shared/control/ids';
import type { Isolation } from '#shared/domain/isolation';

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

/**
 * Every cluster's shared database of pooled tenant databases, and the login role that reaches them
 * (it switches to a tenant's role for each transaction: shared/data/pooled-sql.ts). Its password is
 * in the cluster's pool secret (`tenantry/<stage>/cluster/pool-app`, made with the cluster).
 */
export const POOL_DATABASE = 'tenantry_pool';
export const POOL_APP_USER = 'tenantry_pool_app';

/**
 * Where a tenant database lives: a silo one is the database `db_<id>`; a pooled one is the schema
 * `db_<id>` inside the pool database (docs/isolation-modes.md).
 */
export function placementNamesFor(
  databaseId: string,
  isolation: Isolation,
): { readonly databaseName: string; readonly schemaName: string | null } {
  const name = databaseNameFor(databaseId);
  return isolation === 'pool'
    ? { databaseName: POOL_DATABASE, schemaName: name }
    : { databaseName: name, schemaName: null };
}
/**
 * Name prefix of a stage's tenant database secrets. Short on purpose: the Data API takes a
 * `secretArn` of at most 100 characters
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html,
 * "secretArn … Maximum length of 100"), and a secret's ARN is
 * `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`. With the longest
 * region names (14 characters) that leaves 35 for the name: `tn/<stage>/` (stage at most 11
 * characters, see configFields.stage) and the tenant id's 20-character suffix. The earlier
 * `tenantry/<stage>/tenants/<tenantId>` made ARNs of 103–105 characters that every Data API call
 * refused.
 */
export const tenantSecretPrefix = (stage: string) => `tn/${stage}/`;
export const secretNameFor = (stage: string, tenantId: string) =>
  `${tenantSecretPrefix(stage)}${suffix(tenantId, TENANT_ID_PATTERN)}`;

/** The longest secret ARN the Data API accepts. */
export const MAX_DATA_API_SECRET_ARN_LENGTH = 100;

/** The tag that scopes who may read a tenant's secret (IAM condition on the resource tag). */
export const TENANT_TAG = 'tenantry:tenant-id';

const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
export function quoteIdentifier(name: string): string {
  if (!SAFE_IDENTIFIER.test(name)) throw new UnsafeIdentifier(name);
  return `"${name}"`;
}
