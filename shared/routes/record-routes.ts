import type { RouteSpec } from '#shared/routes/types';

/**
 * Routes of the audit, usage, metrics and finance export capability, merged into the route table.
 * Kept in their own module so that the capability can grow without touching the core table.
 */
export const recordRoutes = {} as const satisfies Record<string, RouteSpec>;
