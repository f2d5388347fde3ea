import { httpHandler } from '#shared/http/handler';
import { restoreRoutes } from '#shared/routes/backup-routes';
import { startRestore } from '#shared/tenancy/restore';

/** `POST …/backups/{backupId}/restore`: a new database from one database of a completed backup. */
export const handler = httpHandler(
  restoreRoutes.restoreBackup,
  async ({ params, body, idempotency, caller, requestId }, services) => ({
    status: 202,
    body: await startRestore(services, params.tenantId, params.backupId, body.databaseId, idempotency, {
      userId: caller.userId,
      requestId,
    }),
  }),
);
