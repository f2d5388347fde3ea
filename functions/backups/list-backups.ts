import { backupDeps } from '#shared/composition/backup-deps';
import { httpHandler } from '#shared/http/handler';
import { backupRoutes } from '#shared/routes/backup-routes';
import { listBackups } from '#shared/tenancy/backups';

export const handler = httpHandler(backupRoutes.listBackups, async ({ params, query }, services) => ({
  status: 200,
  body: await listBackups(backupDeps(services), params.tenantId, query.limit, query.cursor),
}));
