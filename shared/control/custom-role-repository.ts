import {
  CUSTOM_ROLE_COLUMNS,
  type CustomRoleRecord,
  nameCursor,
  type Page,
} from '#shared/control/control-records';
import { decodeCursor, pageOf } from '#shared/core/cursor';
import type { Permission } from '#shared/domain/permissions';
import { Conflict, NotFound } from '#shared/errors';
import { SqlConstraintViolation, type SqlRunner, sqlJson } from '#shared/ports/sql';

/**
 * A tenant's custom roles and which members hold them. Unique names per tenant, and assignments
 * going with their role or membership, are the schema's job; a duplicate name becomes a 409 here.
 */
export class CustomRoleRepository {
  constructor(private readonly sql: SqlRunner) {}

  async list(tenantId: string, limit: number, cursor: string | undefined): Promise<Page<CustomRoleRecord>> {
    const after = decodeCursor(nameCursor, cursor);
    const rows = await this.sql.query<CustomRoleRecord & { sortName: string } & Record<string, unknown>>(
      `select ${CUSTOM_ROLE_COLUMNS}, lower(name) as "sortName"
         from custom_roles
        where tenant_id = :tenantId
          and (:afterName::text is null or (lower(name), id) > (:afterName::text, :afterId))
        order by lower(name), id
        limit :limit`,
      { tenantId, afterName: after?.[0] ?? null, afterId: after?.[1] ?? '', limit: limit + 1 },
    );
    const page = pageOf(rows, limit, (row) => [row.sortName, row.id]);
    return { ...page, items: page.items.map(({ sortName: _sortName, ...role }) => role) };
  }

  /** Every custom role of the tenant, page after page (a plan bounds how many it has). */
  async allOf(tenantId: string): Promise<CustomRoleRecord[]> {
    const roles: CustomRoleRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.list(tenantId, 100, cursor);
      roles.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return roles;
  }

  async get(tenantId: string, roleId: string): Promise<CustomRoleRecord | null> {
    const [row] = await this.sql.query<CustomRoleRecord & Record<string, unknown>>(
      `select ${CUSTOM_ROLE_COLUMNS}
         from custom_roles where tenant_id = :tenantId and id = :roleId`,
      { tenantId, roleId },
    );
    return row ?? null;
  }

  async save(
    tenantId: string,
    roleId: string,
    name: string,
    permissions: Permission[],
    mode: 'create' | 'replace',
  ): Promise<CustomRoleRecord> {
    try {
      const rows = await this.sql.query<CustomRoleRecord & Record<string, unknown>>(
        mode === 'create'
          ? `insert into custom_roles (id, tenant_id, name, permissions)
             values (:roleId, :tenantId, :name, :permissions::jsonb)
             returning ${CUSTOM_ROLE_COLUMNS}`
          : `update custom_roles set name = :name, permissions = :permissions::jsonb, updated_at = now()
              where tenant_id = :tenantId and id = :roleId
             returning ${CUSTOM_ROLE_COLUMNS}`,
        { tenantId, roleId, name, permissions: sqlJson(permissions) },
      );
      const [row] = rows;
      if (!row) throw new NotFound('Role not found');
      return row;
    } catch (error) {
      if (error instanceof SqlConstraintViolation && error.kind === 'unique') {
        throw new Conflict('A role with this name already exists');
      }
      throw error;
    }
  }

  async remove(tenantId: string, roleId: string): Promise<boolean> {
    return (
      (await this.sql.execute('delete from custom_roles where tenant_id = :tenantId and id = :roleId', {
        tenantId,
        roleId,
      })) === 1
    );
  }

  /** Offboarding: the tenant's custom roles go, and their assignments with them. */
  async removeAllOf(tenantId: string): Promise<void> {
    await this.sql.execute('delete from custom_roles where tenant_id = :tenantId', { tenantId });
  }

  async assign(tenantId: string, userId: string, roleId: string): Promise<void> {
    await this.sql.execute(
      `insert into role_assignments (tenant_id, user_id, role_id)
       select :tenantId, :userId, :roleId
        where exists (select 1 from memberships where tenant_id = :tenantId and user_id = :userId)
          and exists (select 1 from custom_roles where tenant_id = :tenantId and id = :roleId)
       on conflict do nothing`,
      { tenantId, userId, roleId },
    );
  }

  async unassign(tenantId: string, userId: string, roleId: string): Promise<boolean> {
    return (
      (await this.sql.execute(
        'delete from role_assignments where tenant_id = :tenantId and user_id = :userId and role_id = :roleId',
        { tenantId, userId, roleId },
      )) === 1
    );
  }
}
