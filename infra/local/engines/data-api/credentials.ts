/**
 * Who may call, and as which database user. The caller needs the `rds-data:*` action on the
 * cluster and, because "Data API transparently calls Secrets Manager, which allows (or denies) the
 * user's request for the secret", `secretsmanager:GetSecretValue` on the secret too: the minimum
 * policy in https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.access.html
 * grants both. The secret is then read and its `username`/`password` log in to PostgreSQL
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html).
 */
import { type AccessRequest, type Authorize, refusalOf } from '#infra/local/iam/access';
import { DataApiError, IAM_REFUSALS, invalidSecret, secretNotFound } from './errors.ts';

export interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly value: string;
}

export interface SecretSource {
  lookup(arnOrName: string): Promise<StoredSecret | null>;
}

export interface DatabaseCredentials {
  readonly user: string;
  readonly password: string;
}

export type DataApiAction =
  | 'rds-data:ExecuteStatement'
  | 'rds-data:BatchExecuteStatement'
  | 'rds-data:BeginTransaction'
  | 'rds-data:CommitTransaction'
  | 'rds-data:RollbackTransaction';

async function check(authorize: Authorize, request: AccessRequest): Promise<void> {
  const decision = await authorize(request);
  if (decision.allowed) return;
  const refusal = refusalOf(request, decision, IAM_REFUSALS);
  throw new DataApiError(refusal.code, refusal.status, refusal.message);
}

/** The caller's permission for the operation on the cluster. */
export function authorizeAction(
  authorize: Authorize,
  accessKeyId: string | undefined,
  action: DataApiAction,
  clusterArn: string,
): Promise<void> {
  return check(authorize, { accessKeyId, action, resource: clusterArn, context: {} });
}

/**
 * The secret's credentials, read with the caller's permission. A missing secret is asked about
 * by the ARN given (IAM decides before Secrets Manager looks), then answered SecretsErrorException
 * ("The secret provided wasn't found."); a value without `username` and `password` is
 * InvalidSecretException ("The Secrets Manager secret used with the request isn't valid.").
 */
export async function readCredentials(
  authorize: Authorize,
  secrets: SecretSource,
  accessKeyId: string | undefined,
  secretArn: string,
): Promise<DatabaseCredentials> {
  const secret = await secrets.lookup(secretArn);
  const action = 'secretsmanager:GetSecretValue';
  if (secret === null) {
    await check(authorize, { accessKeyId, action, resource: secretArn, context: {} });
    throw secretNotFound(secretArn);
  }
  const context: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.tags)) {
    context[`secretsmanager:ResourceTag/${key}`] = value;
    context[`aws:ResourceTag/${key}`] = value;
  }
  await check(authorize, { accessKeyId, action, resource: secret.arn, context });
  return parseCredentials(secret.value);
}

function parseCredentials(value: string): DatabaseCredentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw invalidSecret('its value is not JSON');
  }
  const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || username === '' || typeof password !== 'string') {
    throw invalidSecret('it has no username and password');
  }
  return { user: username, password };
}
