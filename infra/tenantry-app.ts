import type { App } from 'aws-cdk-lib';
import type { AwsSolutionsChecks } from 'cdk-nag';
import type { ApiStack } from '#infra/stacks/api-stack';
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
  readonly stateful: StatefulStack;
  readonly provisioning: ProvisioningStack;
  readonly identity: IdentityStack;
  readonly api: ApiStack;
  readonly events: EventsStack;
}
