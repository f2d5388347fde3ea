import { refuseRerun } from '#shared/data/row-batch';
import { ROW_FILE_MEDIA_TYPES } from '#shared/data/row-files';
import { importRows } from '#shared/data/row-transfer';
import { UnsupportedMediaType } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { MINIMAL_RETURN_APPLIED, prefersMinimalReturn } from '#shared/http/prefer';
import { bulkRoutes } from '#shared/routes/bulk-routes';

export const handler = httpHandler(
  bulkRoutes.importRows,
  async ({ params, query, body, headers, idempotency }, services) => {
    refuseRerun(idempotency);
    // The gateway let through either declared type; the format says which one this file must be.
    const expected = ROW_FILE_MEDIA_TYPES[query.format];
    const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (mediaType !== expected) {
      throw new UnsupportedMediaType(`format=${query.format} takes a ${expected} body`);
    }
    const minimal = prefersMinimalReturn(headers);
    return {
      status: 201,
      body: await importRows(services, params.tenantId, params.databaseId, params.table, query.format, body, {
        minimal,
      }),
      ...(minimal ? { headers: { ...MINIMAL_RETURN_APPLIED } } : {}),
    };
  },
);
