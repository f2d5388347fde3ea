import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { functionHandler } from '#shared/composition/handler';
import type { Services } from '#shared/composition/services';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { logger } from '#shared/core/logger';
import { DatabaseResuming } from '#shared/ports/sql';

const PHYSICAL_ID = 'tenantry-control-database-migrations';

/** A paused Aurora Serverless v2 cluster answers "resuming" for up to about a minute. */
async function migrateWhenAwake(services: Services, attempts = 12) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrate(services.control, controlMigrations);
    } catch (error) {
      if (!(error instanceof DatabaseResuming) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
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
export const handler = functionHandler(
  async (event: CloudFormationCustomResourceEvent, services): Promise<MigrationResponse> => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: PHYSICAL_ID };
    try {
      const result = await migrateWhenAwake(services);
      const data = { current: String(result.current), applied: result.applied.join(',') };
      logger.info('control database migrated', data);
      return { PhysicalResourceId: PHYSICAL_ID, Data: data };
    } catch (error) {
      logger.error('control database migration failed', error as Error);
      throw error;
    }
  },
);
