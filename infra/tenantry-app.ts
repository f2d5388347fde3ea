import type { App, Stack } from 'aws-cdk-lib';
import type { AwsSolutionsChecks } from 'cdk-nag';
import type { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { ApiFunctionsStack } from '#infra/stacks/api-functions-stack';
import type { ApiStack } from '#infra/stacks/api-stack';
import type { ConsoleContentStack } from '#infra/stacks/console-content-stack';
import type { ConsoleStack } from '#infra/stacks/console-stack';
import type { EventsStack } from '#infra/stacks/events-stack';
import type { IdentityStack } from '#infra/stacks/identity-stack';
import type { ProvisioningStack } from '#infra/stacks/provisioning-stack';
import type { StatefulStack } from '#infra/stacks/stateful-stack';
import type { StagePolicy } from '#infra/stage-policy';

/**
 * The built app and its stacks. Its own module because both infra/app.ts (which builds it) and
 * infra/nag.ts (which acknowledges findings on its constructs) need it, and app.ts imports nag.ts.
 */
export interface TenantryApp {
  readonly app: App;
  readonly stage: string;
  readonly policy: StagePolicy;
  readonly nag: AwsSolutionsChecks;
  /** Every stack of the app: the ones below, the API functions stacks among them. */
  readonly stacks: readonly Stack[];
  readonly stateful: StatefulStack;
  readonly provisioning: ProvisioningStack;
  readonly identity: IdentityStack;
  /** The route functions, one stack per route group (infra/stacks/api-functions-stack.ts). */
  readonly apiFunctions: readonly ApiFunctionsStack[];
  /** Every route function by handler entry, whichever stack holds it. */
  readonly routeFunctions: ReadonlyMap<string, TenantryFunction>;
  /** The HTTP API, its routes and integrations. */
  readonly api: ApiStack;
  readonly events: EventsStack;
  /** The web console's bucket and distribution (docs/console-hosting.md). */
  readonly webConsole: ConsoleStack;
  /** The web console's files and config.json, uploaded at deploy time. */
  readonly webConsoleContent: ConsoleContentStack;
}
