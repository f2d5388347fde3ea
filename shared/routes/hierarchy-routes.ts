import * as z from 'zod';
import { MAX_TENANT_DEPTH } from '#shared/control/tenant-paths';
import { error, inTenant } from '#shared/routes/responses';
import {
  pageQuerySchema,
  pageSchema,
  tenantIdSchema,
  tenantParams,
  tenantSchema,
} from '#shared/routes/schemas';
import { defineRoute, type RouteSpec } from '#shared/routes/types';

/** `GET …/children`: a page of direct children, or (`depth=all`) of every descendant. */
export const listChildrenQuerySchema = pageQuerySchema.extend({
  depth: z.enum(['1', 'all']).default('1'),
});

export const childSchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.string(),
  parentId: z.string(),
  /** 1 for a child of the tenant listed, 2 for a grandchild, … */
  depth: z.number().int().min(1),
  createdAt: z.string(),
});

/** `PUT …/parent`: the new parent, or null to make the tenant a root. */
export const setParentSchema = z.strictObject({ parentId: tenantIdSchema.nullable() });

/** Tenant hierarchies (issue 16; docs/tenant-hierarchies.md). */
export const hierarchyRoutes = {
  listTenantChildren: defineRoute({
    operationId: 'listTenantChildren',
    method: 'GET',
    path: '/tenants/{tenantId}/children',
    summary:
      'The child tenants in pages (oldest first); `depth=all` lists every descendant in tree order with its depth (offboarded tenants are not listed)',
    tags: ['tenants'],
    access: { kind: 'tenant', permission: 'tenant:read' },
    handler: 'tenants/list-children',
    needs: ['controlDb', 'telemetry'],
    request: { params: tenantParams, query: listChildrenQuerySchema },
    responses: {
      200: { description: 'A page of child tenants', schema: pageSchema(childSchema) },
      ...inTenant,
    },
  }),
  setTenantParent: defineRoute({
    operationId: 'setTenantParent',
    method: 'PUT',
    path: '/tenants/{tenantId}/parent',
    summary:
      "Move a tenant (and its subtree) under another parent, or make it a root (`null`). Platform admins; or an owner of the tenant who holds `tenants:createChild` in the new parent (in the current one, to make it a root). Audited in the old and new parents' logs.",
    tags: ['tenants'],
    access: { kind: 'tenant', permission: 'tenant:write' },
    handler: 'tenants/put-parent',
    needs: ['controlDb', 'events', 'telemetry'],
    request: { params: tenantParams, body: setParentSchema },
    responses: {
      200: { description: 'The tenant in its new place', schema: tenantSchema },
      ...inTenant,
      403: error('Not an owner of the tenant, or no `tenants:createChild` in the new (or current) parent'),
      404: error('Unknown tenant or parent, or one the caller is not a member of'),
      409: error(
        `A cycle (\`cycle\`: the new parent is the tenant or a descendant), deeper than ${MAX_TENANT_DEPTH} levels below the root (\`depth_exceeded\`), or a parent being offboarded`,
      ),
    },
  }),
} as const satisfies Record<string, RouteSpec>;
