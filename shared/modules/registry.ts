import type { SqlRunner } from '#shared/ports/sql';

/** A module installed in a tenant database (enabled, or disabled with its data kept). */
export interface ModuleInstallation {
  readonly databaseId: string;
  readonly tenantId: string;
  readonly moduleId: string;
  readonly version: number;
  readonly enabled: boolean;
}

const COLUMNS = `database_id as "databaseId", tenant_id as "tenantId", module_id as "moduleId", version, enabled`;

/**
 * The control plane's index of modules per tenant database (`database_modules`), and the tenant's
 * `enabled_modules` derived from it. The tenant database's `tenantry_migrations` remains the
 * truth about what was applied there; this index says where to look.
 */
export class ModuleRegistry {
  constructor(private readonly sql: SqlRunner) {}

  /** The tenant's installations in databases that still exist. */
  async ofTenant(tenantId: string): Promise<ModuleInstallation[]> {
    return this.sql.query<ModuleInstallation & Record<string, unknown>>(
      `select ${COLUMNS} from database_modules dm
        where dm.tenant_id = :tenantId
          and exists (select 1 from tenant_databases d where d.id = dm.database_id and d.status <> 'deleted')
        order by module_id, database_id`,
      { tenantId },
    );
  }

  async isEnabled(databaseId: string, moduleId: string): Promise<boolean> {
    const rows = await this.sql.query(
      'select 1 from database_modules where database_id = :databaseId and module_id = :moduleId and enabled',
      { databaseId, moduleId },
    );
    return rows.length > 0;
  }

  /**
   * Records the module as enabled (or disabled, or removed when `version` is null) in one database,
   * and recomputes the tenant's `enabled_modules`, in one transaction.
   */
  async record(
    tenantId: string,
    databaseId: string,
    moduleId: string,
    state: { enabled: boolean; version: number } | null,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      if (state === null) {
        await tx.execute(
          'delete from database_modules where database_id = :databaseId and module_id = :moduleId',
          {
            databaseId,
            moduleId,
          },
        );
      } else {
        await tx.execute(
          `insert into database_modules (database_id, tenant_id, module_id, version, enabled)
           values (:databaseId, :tenantId, :moduleId, :version, :enabled)
           on conflict (database_id, module_id)
           do update set version = excluded.version, enabled = excluded.enabled, updated_at = now()`,
          { databaseId, tenantId, moduleId, version: state.version, enabled: state.enabled },
        );
      }
      await tx.execute(
        `update tenants set updated_at = now(), enabled_modules = coalesce((
           select jsonb_agg(distinct dm.module_id order by dm.module_id)
             from database_modules dm join tenant_databases d on d.id = dm.database_id
            where dm.tenant_id = :tenantId and dm.enabled and d.status <> 'deleted'), '[]'::jsonb)
          where id = :tenantId`,
        { tenantId },
      );
    });
  }

  /** Sets the version after an upgrade, keeping the enabled flag. */
  async setVersion(databaseId: string, moduleId: string, version: number): Promise<void> {
    await this.sql.execute(
      `update database_modules set version = greatest(version, :version), updated_at = now()
        where database_id = :databaseId and module_id = :moduleId`,
      { databaseId, moduleId, version },
    );
  }
}
