import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as z from 'zod';
import { DatabaseResuming } from '#shared/adapters/data-api-sql';
import { services } from '#shared/composition/runtime';
import { configFields, loadConfig } from '#shared/config';
import { type ApplicationRoleCredentials, ensureApplicationRole } from '#shared/control/application-role';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { logger } from '#shared/core/logger';

const PHYSICAL_ID = 'tenantry-control-database-migrations';

/** A paused Aurora Serverless v2 cluster answers "resuming" for up to about a minute. */
async function migrateWhenAwake(attempts = 12) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateAndGrant();
    } catch (error) {
      if (!(error instanceof DatabaseResuming) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

/**
 * The migrations, as the master (it owns the control schema), then the application role the
 * other functions log in as, its password from its own secret (`CONTROL_SECRET_ARN`).
 */
async function migrateAndGrant() {
  const s = services();
  const result = await migrate(s.masterControl, controlMigrations);
  const { CONTROL_SECRET_ARN } = loadConfig(z.object({ CONTROL_SECRET_ARN: configFields.arn }));
  const credentials = JSON.parse(
    await s.secrets.getSecretValue(CONTROL_SECRET_ARN),
  ) as ApplicationRoleCredentials;
  await ensureApplicationRole(s.masterControl, credentials, s.settings.controlDatabase);
  return result;
}

/** What the provider framework reports to CloudFormation on success. */
export interface MigrationResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/**
 * onEvent handler of the control migrations custom resource (aws-cdk-lib's Provider framework
 * answers CloudFormation): applies the control database migrations on every deploy that changes
 * them (the resource's `version` property), before the API serves. A thrown error is reported as
 * the resource's failure. Deleting the stack leaves the data alone.
 */
export const handler = async (event: CloudFormationCustomResourceEvent): Promise<MigrationResponse> => {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_ID };
  try {
    const result = await migrateWhenAwake();
    const data = { current: String(result.current), applied: result.applied.join(',') };
    logger.info('control database migrated', data);
    return { PhysicalResourceId: PHYSICAL_ID, Data: data };
  } catch (error) {
    logger.error('control database migration failed', error as Error);
    throw error;
  }
};
