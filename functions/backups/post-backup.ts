import { backupDeps } from '#shared/composition/backup-deps';
import { httpHandler } from '#shared/http/handler';
import { backupRoutes } from '#shared/routes/backup-routes';
import { startBackup, toBackupView } from '#shared/tenancy/backups';

export const handler = httpHandler(
  backupRoutes.createBackup,
  async ({ params, body, idempotency, caller }, services) => ({
    status: 202,
    body: toBackupView(
      await startBackup(
        backupDeps(services),
        params.tenantId,
        { databaseIds: body.databaseIds ?? null, trigger: 'request', requestedBy: caller.userId },
        idempotency,
      ),
    ),
  }),
);
