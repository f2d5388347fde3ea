import { lazily } from '#shared/composition/lazy';
import type { Services } from '#shared/composition/services';
import type { TablesDeps } from '#shared/data/tables';
import type { ModuleDeps } from '#shared/modules/modules';
import { ModuleRegistry } from '#shared/modules/registry';
import type { UpgradeDeps } from '#shared/modules/upgrades';

const registries = new WeakMap<object, ModuleRegistry>();

/** The module registry on a set of services' control database (one per set). */
function moduleRegistry(s: Services): ModuleRegistry {
  const control = s.control;
  let registry = registries.get(control);
  if (!registry) {
    registry = new ModuleRegistry(control);
    registries.set(control, registry);
  }
  return registry;
}

/** Each dependency made on first use: a route declares only what it uses (e.g. no workflows). */
export function moduleDeps(s: Services): ModuleDeps {
  return lazily<ModuleDeps>({
    tenants: () => s.tenants,
    databases: () => s.databases,
    clusters: () => s.clusters,
    events: () => s.events,
    modules: () => moduleRegistry(s),
  });
}

export function upgradeDeps(s: Services): UpgradeDeps {
  return lazily<UpgradeDeps>({
    tenants: () => s.tenants,
    databases: () => s.databases,
    clusters: () => s.clusters,
    events: () => s.events,
    modules: () => moduleRegistry(s),
    control: () => s.control,
    workflows: () => s.workflows,
  });
}

export function tablesDeps(s: Services): TablesDeps {
  return lazily<TablesDeps>({
    databases: () => s.databases,
    clusters: () => s.clusters,
    moduleEnabled: () => (databaseId: string, moduleId: string) =>
      moduleRegistry(s).isEnabled(databaseId, moduleId),
  });
}
