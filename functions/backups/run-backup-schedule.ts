import { runBackupSchedule } from '#shared/backups/retention';
import { backupJobEventSchema } from '#shared/backups/schedule-settings';
import { functionHandler } from '#shared/composition/handler';
import { logger } from '#shared/core/logger';

/**
 * Scheduled (EventBridge Scheduler), daily: a `schedule` backup of every active tenant that is
 * due, then every expired backup (and every offboarded tenant's) deleted with its objects
 * (docs/backups.md, "Schedule and retention"). The input is the deployment's switch,
 * `{ "scheduledBackups": false }` for retention only; any other input fails before anything runs.
 */
export const handler = functionHandler(async (event: unknown, services) => {
  const settings = backupJobEventSchema.parse(event ?? {});
  const result = await runBackupSchedule(
    {
      control: services.control,
      tenants: services.tenants,
      databases: services.databases,
      workflows: services.workflows,
      backupStore: services.backupStore,
    },
    settings,
  );
  logger.info('backup schedule ran', result);
  return result;
});
