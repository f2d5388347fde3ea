import type { DatabaseRegistry } from '#shared/control/database-registry';
import type { TenantRepository } from '#shared/control/tenant-repository';
import { tableMetadata } from '#shared/data/catalog';
import { openTenantDatabase } from '#shared/data/tenant-database';
import { Conflict, DomainError, NotFound } from '#shared/errors';
import { ModuleDisabled, ModuleEnabled } from '#shared/events/events';
import {
  dependentsOf,
  latestVersion,
  type ModuleDefinition,
  moduleById,
  moduleCatalog,
  type SettingField,
  tablesAt,
} from '#shared/modules/catalog';
import type { ModuleRegistry } from '#shared/modules/registry';
import {
  dropModuleData,
  type MigrationContext,
  migrateModule,
  moduleTablesPresent,
  tablesToDrop,
} from '#shared/modules/schema';
import type { DatabaseClusters } from '#shared/ports/clusters';
import { type EventPublisher, outgoing } from '#shared/ports/event-publisher';
import { sqlFailureOf } from '#shared/ports/sql';

export class RequirementsUnmet extends DomainError {
  readonly statusCode = 400;
  readonly code = 'requirements_unmet';
}

export class DependenciesMissing extends DomainError {
  readonly statusCode = 409;
  readonly code = 'dependencies_missing';
}

export class ModuleInUse extends DomainError {
  readonly statusCode = 409;
  readonly code = 'module_in_use';
}

export interface ModuleDeps {
  readonly tenants: TenantRepository;
  readonly databases: DatabaseRegistry;
  readonly clusters: DatabaseClusters;
  readonly modules: ModuleRegistry;
  readonly events: EventPublisher;
}

const filled = (value: unknown) =>
  value !== undefined && value !== null && !(typeof value === 'string' && value.trim() === '');

/** The requirement fields the tenant's settings leave empty, in the module's order. */
export function missingFields(module: ModuleDefinition, settings: Record<string, unknown>): SettingField[] {
  return module.requirements.filter((field) => !filled(settings[field]));
}

export function migrationContext(settings: Record<string, unknown>): MigrationContext {
  return { defaultCurrency: typeof settings.defaultCurrency === 'string' ? settings.defaultCurrency : 'USD' };
}

async function tenantSettings(deps: Pick<ModuleDeps, 'tenants'>, tenantId: string) {
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new NotFound('Tenant not found');
  return tenant.settings;
}

/** Events go on the bus; a refused one is logged by the publisher's dead letter, not retried here. */
async function announce(deps: ModuleDeps, event: Parameters<EventPublisher['publish']>[0][number]) {
  await deps.events.publish([event]);
}

/** The catalog, with each module's state in the tenant's databases and its requirements. */
export async function listModules(deps: ModuleDeps, tenantId: string) {
  const [settings, installations] = await Promise.all([
    tenantSettings(deps, tenantId),
    deps.modules.ofTenant(tenantId),
  ]);
  return {
    items: moduleCatalog.map((module) => {
      const here = installations.filter((i) => i.moduleId === module.id);
      const missing = missingFields(module, settings);
      return {
        id: module.id,
        name: module.name,
        description: module.description,
        version: latestVersion(module),
        dependencies: [...module.dependencies],
        requirements: { fields: [...module.requirements], met: missing.length === 0, missingFields: missing },
        enabled: here.some((i) => i.enabled),
        databases: here.map((i) => ({ databaseId: i.databaseId, enabled: i.enabled, version: i.version })),
        tables: tablesAt(module).map((t) => ({
          name: t.name,
          columns: t.columns.map((c) => ({
            name: c.name,
            type: c.type,
            nullable: c.nullable !== false,
            ...(c.unique ? { unique: true } : {}),
            ...(c.references ? { references: c.references } : {}),
          })),
          indexes: t.indexes ?? [],
        })),
      };
    }),
  };
}

/**
 * Enables a module in one of the tenant's databases: requirements, then dependencies, then its
 * pending migrations in one transaction, then the control plane's record and an event. Enabling
 * an enabled module changes nothing and answers `created: false`.
 */
export async function enableModule(deps: ModuleDeps, tenantId: string, moduleId: string, databaseId: string) {
  const module = moduleById(moduleId);
  if (!module) throw new NotFound('Module not found');
  const { sql } = await openTenantDatabase(deps, tenantId, databaseId, { changesTables: true });
  const settings = await tenantSettings(deps, tenantId);
  const missing = missingFields(module, settings);
  if (missing.length > 0) {
    throw new RequirementsUnmet(`Fill in the tenant's ${missing.join(', ')} before enabling ${module.id}`, {
      moduleId: module.id,
      missingFields: missing,
    });
  }
  const installations = (await deps.modules.ofTenant(tenantId)).filter((i) => i.databaseId === databaseId);
  const enabledHere = installations.filter((i) => i.enabled).map((i) => i.moduleId);
  const missingModules = module.dependencies.filter((dependency) => !enabledHere.includes(dependency));
  if (missingModules.length > 0) {
    throw new DependenciesMissing(`Enable ${missingModules.join(', ')} in this database first`, {
      moduleId: module.id,
      missingModules,
    });
  }
  const wasEnabled = enabledHere.includes(module.id);
  let migrated: Awaited<ReturnType<typeof migrateModule>>;
  try {
    migrated = await migrateModule(sql, module, latestVersion(module), migrationContext(settings));
    // Recorded as applied, yet a table is gone (dropped while the module was disabled): say so.
    const present = new Set((await moduleTablesPresent(sql, module)).map((t) => t.name));
    const lost = tablesToDrop(module).filter((table) => !present.has(table));
    if (lost.length > 0) {
      throw new Conflict(
        `Tables of ${module.id} are missing (${lost.join(', ')}); disable it with dropData=true, then enable it again`,
        { reason: 'module_tables_missing', missingTables: lost },
      );
    }
  } catch (error) {
    if (error instanceof Conflict) throw error;
    const state = sqlFailureOf(error)?.sqlState;
    if (state === '42P01' || state === '42703') {
      throw new Conflict(`The tables ${module.id} builds on were changed; rename or restore them first`, {
        reason: 'schema_conflict',
      });
    }
    if (state === '42P07' || state === '42701' || state === '42710') {
      throw new Conflict(
        `The database already has a table or column ${module.id} needs; rename or drop it first`,
        {
          reason: 'schema_conflict',
        },
      );
    }
    throw error;
  } finally {
    tableMetadata.invalidate(databaseId);
  }
  await deps.modules.record(tenantId, databaseId, module.id, { enabled: true, version: migrated.toVersion });
  if (!wasEnabled || migrated.applied.length > 0) {
    await announce(
      deps,
      outgoing(ModuleEnabled, {
        tenantId,
        databaseId,
        moduleId: module.id,
        version: migrated.toVersion,
        at: new Date().toISOString(),
      }),
    );
  }
  return {
    created: !wasEnabled,
    module: {
      moduleId: module.id,
      databaseId,
      enabled: true,
      version: migrated.toVersion,
      applied: migrated.applied,
    },
  };
}

/**
 * Disables a module in the tenant's databases that have it (or only `databaseId`). Its tables and
 * rows stay unless `dropData`; refused while a module that depends on it is enabled there.
 */
export async function disableModule(
  deps: ModuleDeps,
  tenantId: string,
  moduleId: string,
  options: { databaseId?: string; dropData: boolean },
) {
  const module = moduleById(moduleId);
  if (!module) throw new NotFound('Module not found');
  const all = await deps.modules.ofTenant(tenantId);
  const targets = all.filter(
    (i) =>
      i.moduleId === module.id && (options.databaseId === undefined || i.databaseId === options.databaseId),
  );
  if (targets.length === 0) throw new NotFound('The module is not enabled in this tenant');
  for (const target of targets) {
    const enabledThere = all
      .filter((i) => i.databaseId === target.databaseId && i.enabled)
      .map((i) => i.moduleId);
    const dependents = dependentsOf(module.id, enabledThere);
    if (dependents.length > 0) {
      throw new ModuleInUse(
        `Disable ${dependents.join(', ')} first: ${dependents.length > 1 ? 'they depend' : 'it depends'} on ${module.id}`,
        {
          moduleId: module.id,
          dependentModules: dependents,
        },
      );
    }
  }
  const databases = [];
  for (const target of targets) {
    if (options.dropData) {
      const { sql } = await openTenantDatabase(deps, tenantId, target.databaseId, { changesTables: true });
      try {
        await dropModuleData(sql, module);
      } catch (error) {
        if (sqlFailureOf(error)?.sqlState === '2BP01') {
          throw new Conflict(`Other tables refer to ${module.id}'s tables; drop those references first`, {
            reason: 'dependent_objects',
          });
        }
        throw error;
      } finally {
        tableMetadata.invalidate(target.databaseId);
      }
      await deps.modules.record(tenantId, target.databaseId, module.id, null);
    } else {
      await deps.modules.record(tenantId, target.databaseId, module.id, {
        enabled: false,
        version: target.version,
      });
    }
    if (target.enabled || options.dropData) {
      await announce(
        deps,
        outgoing(ModuleDisabled, {
          tenantId,
          databaseId: target.databaseId,
          moduleId: module.id,
          dataDropped: options.dropData,
          at: new Date().toISOString(),
        }),
      );
    }
    databases.push({ databaseId: target.databaseId, enabled: false, dataDropped: options.dropData });
  }
  return { moduleId: module.id, databases };
}
