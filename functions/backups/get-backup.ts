import { backupDeps } from '#shared/composition/backup-deps';
import { httpHandler } from '#shared/http/handler';
import { backupRoutes } from '#shared/routes/backup-routes';
import { describeBackup } from '#shared/tenancy/backups';

export const handler = httpHandler(backupRoutes.getBackup, async ({ params }, services) => ({
  status: 200,
  body: await describeBackup(backupDeps(services), params.tenantId, params.backupId),
}));
