import { parseStage } from '#infra/app';
import { TENANT_ID_TAG, tenantSecretPrefix } from '#infra/stacks/provisioning-stack';
import type { SecretStore } from '#shared/ports/secrets';

/** A tenant database secret that the provisioning saga created at runtime. */
export interface TenantSecret {
  readonly name: string;
  readonly arn: string;
  readonly tenantId: string;
}

export interface TeardownResult {
  /** The stage's tenant secrets that were found (and deleted, when `deleted`). */
  readonly secrets: readonly TenantSecret[];
  readonly deleted: boolean;
}

/**
 * The tenant secrets of a stage: named under the stage's tenant prefix (the one the IAM policies
 * of provisioning and the data routes are scoped to) and tagged with a tenant id, as provisioning
 * creates them. The name check is repeated here although ListSecrets already filters on the
 * prefix, so a store that filtered less could never widen what is deleted.
 */
export async function findTenantSecrets(store: SecretStore, stage: string): Promise<TenantSecret[]> {
  const prefix = tenantSecretPrefix(parseStage(stage));
  return (await store.listSecrets(prefix))
    .filter((secret) => secret.name.startsWith(prefix) && (secret.tags[TENANT_ID_TAG] ?? '') !== '')
    .map((secret) => ({ name: secret.name, arn: secret.arn, tenantId: secret.tags[TENANT_ID_TAG] ?? '' }));
}

/**
 * After `cdk destroy`: no stack owns the tenant secrets, so this lists them and, with `delete`,
 * deletes them without a recovery window (as offboarding does, so nothing is left to pay for and
 * no name stays reserved). Deleting a secret that is already gone is not an error, so a run that
 * stopped half-way can simply be repeated.
 */
export async function teardownTenantSecrets(
  store: SecretStore,
  stage: string,
  options: { readonly delete: boolean },
): Promise<TeardownResult> {
  const secrets = await findTenantSecrets(store, stage);
  if (!options.delete) return { secrets, deleted: false };
  for (const secret of secrets) await store.deleteSecret(secret.arn);
  return { secrets, deleted: true };
}
