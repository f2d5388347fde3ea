/**
 * `npm run teardown-secrets -- --stage <stage> [--delete]`: lists (and with `--delete`, deletes)
 * the tenant database secrets the provisioning saga created at runtime, which `cdk destroy`
 * leaves behind because no stack owns them. Run it after `cdk destroy --all` (so no provisioning
 * is running), with the same credentials and region as the deployment. docs/operations.md.
 */
import { parseArgs } from 'node:util';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidStageError } from '#infra/app';
import { teardownTenantSecrets } from '#infra/ops/tenant-secrets-teardown';
import { SecretsManagerStore } from '#shared/adapters/secrets-manager-store';

const { values } = parseArgs({
  options: { stage: { type: 'string' }, delete: { type: 'boolean', default: false } },
  strict: true,
});
if (!values.stage) {
  console.error('usage: npm run teardown-secrets -- --stage <stage> [--delete]');
  process.exit(2);
}

const store = new SecretsManagerStore(new SecretsManagerClient({}));
const result = await teardownTenantSecrets(store, values.stage, { delete: values.delete }).catch(
  (error: unknown) => {
    if (!(error instanceof InvalidStageError)) throw error;
    console.error(error.message);
    process.exit(2);
  },
);
for (const secret of result.secrets) {
  console.log(`${result.deleted ? 'deleted' : 'found  '}  ${secret.name}  (tenant ${secret.tenantId})`);
}
console.log(
  result.deleted
    ? `${result.secrets.length} tenant secrets of stage ${values.stage} deleted`
    : `${result.secrets.length} tenant secrets of stage ${values.stage}; nothing deleted (add --delete)`,
);
