import type { TenantAccessRecord } from '#shared/control/control-records';
import type { SqlRunner } from '#shared/ports/sql';

/** Built-in roles from weakest to strongest, as a SQL expression over a role column. */
export const ROLE_STRENGTH = (column: string) =>
  `case ${column} when 'owner' then 4 when 'admin' then 3 when 'member' then 2 else 1 end`;

/**
 * `chain`: the tenant `:tenantId` and its ancestors (`ord` 1 for the root), and whether the roles
 * held in each apply to the tenant: those of the tenant itself always do; an ancestor's do unless
 * a tenant between it and the tenant (or the tenant) sets `inherit_access` false, which cuts the
 * chain above itself (docs/tenant-hierarchies.md).
 */
export const ACCESS_CHAIN = `chain as (
  select a.id, p.ord,
         p.ord >= coalesce(max(case when not a.inherit_access then p.ord end) over (), 1) as applies
    from tenants t
    cross join lateral unnest(string_to_array(t.path, '/')) with ordinality as p(id, ord)
    join tenants a on a.id = p.id
   where t.id = :tenantId
)`;

/**
 * What the access policy decides on: the tenant's state, the strongest role the user holds in it
 * or in an ancestor whose roles apply to it (and where that role is held), and the rights of every
 * custom role assigned to them in those tenants. One query whatever the depth: the ancestors come
 * from the tenant's path. Null when no role of the user applies to the tenant.
 */
export async function accessRecordOf(
  sql: SqlRunner,
  userId: string,
  tenantId: string,
): Promise<TenantAccessRecord | null> {
  const [row] = await sql.query<TenantAccessRecord & Record<string, unknown>>(
    `with ${ACCESS_CHAIN},
     held as (
       select m.tenant_id, m.role, c.ord from chain c
         join memberships m on m.tenant_id = c.id and m.user_id = :userId
        where c.applies
     ),
     best as (select tenant_id, role from held order by ${ROLE_STRENGTH('role')} desc, ord desc limit 1)
     select t.status, t.plan, t.plan_overrides as "planOverrides", best.role, best.tenant_id as "roleFrom",
            coalesce((select jsonb_agg(distinct p order by p)
                        from held h
                        join role_assignments ra on ra.tenant_id = h.tenant_id and ra.user_id = :userId
                        join custom_roles cr on cr.id = ra.role_id
                        cross join lateral jsonb_array_elements_text(cr.permissions) p), '[]'::jsonb) as "customPermissions"
       from tenants t cross join best
      where t.id = :tenantId`,
    { tenantId, userId },
  );
  return row ?? null;
}
