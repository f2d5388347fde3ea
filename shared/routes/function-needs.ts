import {
  CONTROL_MIGRATOR_HANDLER,
  CONTROL_MIGRATOR_NEEDS,
  IDENTITY_TRIGGER_HANDLERS,
  IDENTITY_TRIGGER_NEEDS,
  type Need,
  unionOfNeeds,
} from '#shared/domain/needs';
import { subscriptions } from '#shared/events/subscriptions';
import { RECORD_JOB_HANDLERS, RECORD_JOB_NEEDS } from '#shared/records/scheduled-jobs';
import { routeList } from '#shared/routes/table';
import type { RouteSpec } from '#shared/routes/types';
import {
  type ProvisioningStep,
  provisioningStepNeeds,
  provisioningSteps,
} from '#shared/workflows/provisioning';

/** A route function's needs: the union of the needs of every route its handler serves. */
export function routeFunctionNeeds(routes: readonly RouteSpec[] = routeList): Map<string, Need[]> {
  const byHandler = new Map<string, (readonly Need[])[]>();
  for (const route of routes)
    byHandler.set(route.handler, [
      ...(byHandler.get(route.handler) ?? []),
      route.needs,
      // Every tenant route is limited per tenant (shared/http/rate-limit.ts), by the limits of the
      // tenant's plan: the grant computes them from the deployment's catalogue (TENANT_PLANS).
      route.access.kind === 'tenant' ? ['rateLimits', 'plans'] : [],
      // A write that grows data reads the tenant's latest storage snapshot (shared/http/storage-quota.ts).
      route.growsStorage ? ['usageRecords'] : [],
    ]);
  return new Map([...byHandler].map(([handler, declared]) => [handler, unionOfNeeds(declared)]));
}

/**
 * Every function entry of the app with its declared needs: the route functions, the event
 * consumers, the scheduled jobs, the provisioning steps, the Cognito triggers and the migrator.
 * The CDK app grants from the same declarations; the runtime may read them to build only the
 * clients a function needs.
 */
export function declaredNeeds(): Map<string, Need[]> {
  const all = new Map<string, Need[]>(routeFunctionNeeds());
  const add = (entry: string, needs: readonly Need[]) =>
    all.set(entry, unionOfNeeds([all.get(entry) ?? [], needs]));
  for (const subscription of subscriptions) add(subscription.handler, subscription.needs);
  for (const job of Object.keys(RECORD_JOB_HANDLERS) as (keyof typeof RECORD_JOB_HANDLERS)[]) {
    add(RECORD_JOB_HANDLERS[job], RECORD_JOB_NEEDS[job]);
  }
  for (const step of Object.keys(provisioningSteps) as ProvisioningStep[]) {
    add(provisioningSteps[step], provisioningStepNeeds[step]);
  }
  add(IDENTITY_TRIGGER_HANDLERS.postConfirmation, IDENTITY_TRIGGER_NEEDS.postConfirmation);
  add(IDENTITY_TRIGGER_HANDLERS.preTokenGeneration, IDENTITY_TRIGGER_NEEDS.preTokenGeneration);
  add(CONTROL_MIGRATOR_HANDLER, CONTROL_MIGRATOR_NEEDS);
  return all;
}
