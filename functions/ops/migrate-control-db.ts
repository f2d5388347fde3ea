import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { DatabaseResuming } from '#shared/adapters/data-api-sql';
import { services } from '#shared/composition/runtime';
import { migrate } from '#shared/control/migrate';
import { controlMigrations } from '#shared/control/migrations';
import { logger } from '#shared/core/logger';

const PHYSICAL_ID = 'tenantry-control-database-migrations';

/** A paused Aurora Serverless v2 cluster answers "resuming" for up to about a minute. */
async function migrateWhenAwake(attempts = 12) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrate(services().control, controlMigrations);
    } catch (error) {
      if (!(error instanceof DatabaseResuming) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

/**
 * CloudFormation custom resource: applies the control database migrations on every deploy that
 * changes them (the resource's `version` property), before the API serves. It answers
 * CloudFormation itself, so no provider framework function is needed. Deleting the stack leaves
 * the data alone.
 */
export const handler = async (event: CloudFormationCustomResourceEvent): Promise<void> => {
  let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
  let reason = 'ok';
  let data: Record<string, string> = {};
  try {
    if (event.RequestType !== 'Delete') {
      const result = await migrateWhenAwake();
      data = { current: String(result.current), applied: result.applied.join(',') };
      logger.info('control database migrated', data);
    }
  } catch (error) {
    status = 'FAILED';
    reason = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 500) : 'migration failed';
    logger.error('control database migration failed', error as Error);
  }
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The pre-signed URL is signed for an empty content type.
    headers: { 'content-type': '' },
    body: JSON.stringify({
      Status: status,
      Reason: reason,
      PhysicalResourceId: PHYSICAL_ID,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      Data: data,
    }),
  });
  if (!response.ok) throw new Error(`CloudFormation did not take the response: ${response.status}`);
};
