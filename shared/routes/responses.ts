import { errorBodySchema } from '#shared/routes/schemas';

/** The error answers the route tables share: one error body schema, described per status. */
export const error = (description: string) => ({ description, schema: errorBodySchema });
export const signedIn = { 400: error('Invalid input'), 401: error('No valid token') } as const;
export const inTenant = {
  ...signedIn,
  403: error('Not allowed in this tenant'),
  404: error('Unknown tenant, or one the caller is not a member of'),
} as const;
/** A tenant route that creates a counted resource: its 403 may also be the quota (issue 15). */
export const inTenantCounted = (quota: string) =>
  ({
    ...inTenant,
    403: error(
      `Not allowed in this tenant, or the ${quota} quota of its plan is reached (\`quota_exceeded\`, with \`quota\`, \`limit\`, \`used\`): nothing was created`,
    ),
  }) as const;
export const noContent = { 204: { description: 'Done' } } as const;
