import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/http/cursor';
import { httpHandler } from '#shared/http/handler';
import { recordServices } from '#shared/records/record-services';
import { routes } from '#shared/routes/table';

const DEFAULT_DAYS = 30;

export const handler = httpHandler(routes.listAuditRecords, async ({ params, query }) => {
  const to = query.to ?? new Date().toISOString();
  const from = query.from ?? new Date(Date.parse(to) - DEFAULT_DAYS * 86_400_000).toISOString();
  const after = decodeCursor(z.tuple([z.literal('audit'), z.string().max(300)]), query.cursor);
  const page = await recordServices().audit.query(params.tenantId, {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    action: query.action,
    userId: query.userId,
    limit: query.limit,
    after: after?.[1],
  });
  return {
    status: 200,
    body: {
      items: page.items.map((item) => ({
        eventId: item.eventId,
        tenantId: item.tenantId,
        userId: item.userId,
        action: item.action,
        resource: item.resource,
        outcome: item.outcome,
        statusCode: item.statusCode,
        requestId: item.requestId,
        at: item.at,
        details: item.details ?? {},
      })),
      nextCursor: page.nextSk ? encodeCursor(['audit', page.nextSk]) : null,
    },
  };
});
