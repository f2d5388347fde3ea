import * as z from 'zod';
import { decodeCursor, encodeCursor } from '#shared/core/cursor';
import { ValidationFailed } from '#shared/errors';
import { httpHandler } from '#shared/http/handler';
import { auditCursorKey, recordRoutes } from '#shared/routes/record-routes';

export const handler = httpHandler(recordRoutes.listAuditRecords, async ({ params, query }, services) => {
  const from = new Date(query.from).toISOString();
  const to = new Date(query.to).toISOString();
  const after = decodeCursor(z.tuple([z.literal('audit'), auditCursorKey]), query.cursor);
  // A cursor is a position inside the range it was made for; any other is not this list's.
  if (after && (after[1] < from || after[1] > `${to}#~`)) {
    throw new ValidationFailed('Invalid cursor', {
      details: [
        { location: 'query', path: 'cursor', code: 'invalid_cursor', message: 'Not a cursor of this range' },
      ],
    });
  }
  const page = await services.records.audit.query(params.tenantId, {
    from,
    to,
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
