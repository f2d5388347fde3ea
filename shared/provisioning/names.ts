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
