import { CustomResource, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import {
  DATA_API_ACTIONS,
  DEFAULT_TENANT_PLANS,
  grantNeeds,
  type NeedResources,
  provisioningStateMachineName,
  TENANT_ID_TAG,
  tenantSecretsArn,
} from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { TenantCluster } from '#infra/stacks/stateful-stack';
import type { StagePolicy } from '#infra/stage-policy';
import { controlMigrations } from '#shared/control/migrations';
import { DEFAULT_CLUSTER_CAPACITY, PRIMARY_CLUSTER_ID } from '#shared/domain/clusters';
import { CONTROL_MIGRATOR_HANDLER, CONTROL_MIGRATOR_NEEDS } from '#shared/domain/needs';
import { tenantSecretPrefix } from '#shared/provisioning/names';
import { POOL_SETUP_VERSION } from '#shared/provisioning/pool';
import {
  type ProvisioningStep,
  provisioningDefinition,
  provisioningStepNeeds,
  provisioningSteps,
  provisioningStepTimeoutSeconds,
} from '#shared/workflows/provisioning';

/** Tag every tenant secret carries; IAM only lets the secret steps touch secrets that have it. */
export { provisioningStateMachineName, TENANT_ID_TAG };

/** The STS session tag that names the tenant of a tenant-access session. */
export const TENANT_SESSION_TAG = 'TenantId';
/** Resource tag the local IAM stand-in finds the tenant-access role by. */
export const ROLE_TAG = 'tenantry:role';
export const TENANT_ACCESS_ROLE_TAG_VALUE = 'tenant-access';

/** Name prefix of the per-tenant database secrets (short: see shared/provisioning/names.ts). */
export { tenantSecretPrefix };

export interface ProvisioningStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly cluster: rds.DatabaseCluster;
  /**
   * Every cluster, `primary` first, with its registry settings (the migrator records them).
   * @default - `cluster` alone, as `primary`
   */
  readonly clusters?: readonly TenantCluster[];
  /** The control database's application role secret (Stateful stack). */
  readonly controlAppSecret: secretsmanager.ISecret;
  /** The pool login role's secret (Stateful stack): pooled tenants' statements are sent with it. */
  readonly poolAppSecret: secretsmanager.ISecret;
  readonly eventBus: events.IEventBus;
  /**
   * The plan catalogue (`TENANT_PLANS`, JSON) of the steps that declare `plans`: FinishBackup
   * reads the tenant's backup retention from it.
   * @default '{}' - the default catalogue
   */
  readonly tenantPlans?: string;
  /** The exports bucket and the backups key: the backup steps' store (`backupStore`). */
  readonly exportsBucket?: s3.IBucket;
  readonly backupsKey?: kms.IKey;
}

/**
 * The tenant provisioning saga: one Standard state machine from the shared definition, one
 * function per step, each granted what its step declares (provisioningStepNeeds). Steps create
 * and drop tenant databases through the Data API and manage the tenant's secret, which IAM
 * restricts to secrets tagged with a tenant id. Also the tenant-access role, which every function
 * that touches a tenant's data assumes with that tenant's id as a session tag.
 */
export class ProvisioningStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly stepFunctions: Record<ProvisioningStep, TenantryFunction>;
  /**
   * Assumed with the session tag `TenantId=<tenant id>`: its sessions read only the secret tagged
   * with that tenant, and call the Data API (which reads the secret with the caller's credentials).
   */
  readonly tenantAccessRole: iam.Role;
  /** The control database migrator (`ops/migrate-control-db`). */
  readonly migrator: TenantryFunction;
  /** Applies the control database migrations on deploy. */
  readonly controlMigrations: CustomResource;
  /** Answers CloudFormation for the migrator: a failed or timed-out migration fails the deploy. */
  readonly controlMigrationsProvider: cr.Provider;
  /** The framework function's role. */
  readonly controlMigrationsProviderRole: iam.Role;

  constructor(scope: Construct, id: string, props: ProvisioningStackProps) {
    super(scope, id, props);

    this.tenantAccessRole = this.createTenantAccessRole(props);
    const resources: NeedResources = {
      stage: props.stage,
      cluster: props.cluster,
      ...(props.clusters ? { clusters: props.clusters } : {}),
      controlAppSecret: props.controlAppSecret,
      poolAppSecret: props.poolAppSecret,
      tenantAccessRole: this.tenantAccessRole,
      eventBus: props.eventBus,
      ...(props.exportsBucket ? { exportsBucket: props.exportsBucket } : {}),
      ...(props.backupsKey ? { backupsKey: props.backupsKey } : {}),
      tenantPlans: props.tenantPlans ?? DEFAULT_TENANT_PLANS,
    };

    const entries = Object.entries(provisioningSteps) as [ProvisioningStep, string][];
    const stepFunctions = {} as Record<ProvisioningStep, TenantryFunction>;
    for (const [step, handler] of entries) {
      const fn = new TenantryFunction(this, step, {
        handler,
        stage: props.stage,
        policy: props.policy,
        // Creating a database through the Data API can take a while; the Data API gives up at 45 s.
        // Backup steps take longer (provisioningStepTimeoutSeconds).
        timeout: Duration.seconds(provisioningStepTimeoutSeconds[step] ?? 60),
        serviceName: 'tenantry-provisioning',
      });
      grantNeeds(fn, provisioningStepNeeds[step], resources);
      stepFunctions[step] = fn;
    }
    this.stepFunctions = stepFunctions;

    const logGroup = new logs.LogGroup(this, 'WorkflowLogs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    this.stateMachine = new sfn.StateMachine(this, 'ProvisioningWorkflow', {
      stateMachineName: provisioningStateMachineName(props.stage),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify(provisioningDefinition((step) => `\${${step}}`)),
      ),
      definitionSubstitutions: Object.fromEntries(
        entries.map(([step]) => [step, stepFunctions[step].function.functionArn]),
      ),
      tracingEnabled: true,
      // Execution data stays out of the logs: step inputs and outputs carry tenant names and
      // owner ids, and the execution history already holds them for debugging.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    // Exactly the step functions' unqualified ARNs, the resources the definition names.
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: entries.map(([step]) => stepFunctions[step].function.functionArn),
      }),
    );

    // The control database schema, migrated on every deploy that adds a migration.
    const migrator = new TenantryFunction(this, 'ControlMigrations', {
      handler: CONTROL_MIGRATOR_HANDLER,
      stage: props.stage,
      policy: props.policy,
      timeout: Duration.minutes(5),
      serviceName: 'tenantry-ops',
    });
    // Both secrets: it migrates as the master, and sets tenantry_app's password from its secret.
    grantNeeds(migrator, CONTROL_MIGRATOR_NEEDS, resources);
    this.migrator = migrator;
    // The framework function gets a role and log group like every Tenantry function's: writes to
    // its own log group only, instead of the default role's AWS managed policy.
    const providerLogs = new logs.LogGroup(this, 'ControlMigrationsProviderLogs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    const providerRole = new iam.Role(this, 'ControlMigrationsProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Tenantry control migrations provider framework (${props.stage})`,
    });
    this.controlMigrationsProviderRole = providerRole;
    providerLogs.grantWrite(providerRole);
    // Synchronous (no isComplete handler): the migrator's own timeout bounds the wait, and the
    // framework, whose function outlives it, reports a timed-out migration as a failure.
    this.controlMigrationsProvider = new cr.Provider(this, 'ControlMigrationsProvider', {
      onEventHandler: migrator.function,
      frameworkOnEventRole: providerRole,
      logGroup: providerLogs,
    });
    this.controlMigrations = new CustomResource(this, 'ControlDatabaseSchema', {
      serviceToken: this.controlMigrationsProvider.serviceToken,
      resourceType: 'Custom::TenantryControlMigrations',
      // CloudFormation waits an hour for a custom resource by default
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html#cfn-cloudformation-customresource-servicetimeout):
      // a handler that never answers would block the stack that long. The migrator gives up at
      // 5 minutes; 10 leave the framework time to report it.
      serviceTimeout: Duration.minutes(10),
      properties: {
        version: String(Math.max(...controlMigrations.map((m) => m.version))),
        // Changed when what the migrator sets up on the clusters besides the migrations changes.
        clusterSetup: POOL_SETUP_VERSION,
        // The cluster registry's configuration: a change runs the migrator, which syncs it.
        clusters: JSON.stringify(
          (
            props.clusters ?? [
              { id: PRIMARY_CLUSTER_ID, name: PRIMARY_CLUSTER_ID, capacity: DEFAULT_CLUSTER_CAPACITY },
            ]
          ).map(({ id, name, capacity }) => ({ id, name, capacity })),
        ),
      },
    });
  }

  /**
   * The tenant-access role. Trust: the account root, for sts:AssumeRole and sts:TagSession, only
   * with a `TenantId` session tag shaped like a tenant id. Trusting the account root lets no one in
   * by itself: in the same account the caller's own identity policy must allow sts:AssumeRole on
   * this role, and only the functions that declare `tenantData` have that
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts).
   * Passing session tags requires sts:TagSession in the trust policy, and `aws:RequestTag` names the
   * tags of the request (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html).
   * The maximum session stays the default hour: Lambda functions assume it from their own role's
   * session (role chaining), which AWS caps at one hour anyway
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining).
   */
  private createTenantAccessRole(props: ProvisioningStackProps): iam.Role {
    const role = new iam.Role(this, 'TenantAccessRole', {
      description: `Tenantry tenant data access, scoped per session by the ${TENANT_SESSION_TAG} tag (${props.stage})`,
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountRootPrincipal(), {
        StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: 't_*' },
      }).withSessionTags(),
    });
    Tags.of(role).add(ROLE_TAG, TENANT_ACCESS_ROLE_TAG_VALUE);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadOwnTenantSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [tenantSecretsArn(this, props.stage)],
        // The secret's tenant tag must equal the session's tenant: a session for tenant A cannot
        // read tenant B's secret, whatever the code asks for.
        // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-tags
        conditions: {
          StringEquals: {
            [`secretsmanager:ResourceTag/${TENANT_ID_TAG}`]: `\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`,
          },
        },
      }),
    );
    // A pooled tenant's statements are sent with the pool login role's secret, the same for every
    // pooled tenant: below the application, what keeps them apart is PostgreSQL's roles, not IAM
    // (docs/isolation-modes.md).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadPoolSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [props.poolAppSecret.secretArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TenantDataApi',
        actions: [...DATA_API_ACTIONS],
        resources: (props.clusters ?? [{ cluster: props.cluster }]).map(({ cluster }) => cluster.clusterArn),
      }),
    );
    return role;
  }
}
