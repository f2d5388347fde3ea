import { lazily } from '#shared/composition/lazy';
import { services } from '#shared/composition/runtime';
import type { TablesDeps } from '#shared/data/tables';
import type { ModuleDeps } from '#shared/modules/modules';
import { ModuleRegistry } from '#shared/modules/registry';
import type { UpgradeDeps } from '#shared/modules/upgrades';

let registry: { control: unknown; registry: ModuleRegistry } | undefined;

/** The module registry on the installed control database (one per process). */
function moduleRegistry(): ModuleRegistry {
  const control = services().control;
  if (registry?.control !== control) registry = { control, registry: new ModuleRegistry(control) };
  return registry.registry;
}

/** Each dependency made on first use: a route declares only what it uses (e.g. no clusters). */
export function moduleDeps(): ModuleDeps {
  const s = services();
  return lazily<ModuleDeps>({
    tenants: () => s.tenants,
    databases: () => s.databases,
    clusters: () => s.clusters,
    events: () => s.events,
    modules: moduleRegistry,
  });
}

export function upgradeDeps(): UpgradeDeps {
  const s = services();
  return lazily<UpgradeDeps>({
    tenants: () => s.tenants,
    databases: () => s.databases,
    clusters: () => s.clusters,
    events: () => s.events,
    modules: moduleRegistry,
    control: () => s.control,
    workflows: () => s.workflows,
  });
}

export function tablesDeps(): TablesDeps {
  const s = services();
  return lazily<TablesDeps>({
    databases: () => s.databases,
    clusters: () => s.clusters,
    moduleEnabled: () => (databaseId: string, moduleId: string) =>
      moduleRegistry().isEnabled(databaseId, moduleId),
  });
}
