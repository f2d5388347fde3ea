import { ArnFormat, CustomResource, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { grantBus, grantDataApi, TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import { controlMigrations } from '#shared/control/migrations';
import { tenantSecretPrefix } from '#shared/provisioning/names';
import {
  type ProvisioningStep,
  provisioningDefinition,
  provisioningSteps,
} from '#shared/workflows/provisioning';

/** Tag every tenant secret carries; IAM only lets provisioning touch secrets that have it. */
export const TENANT_ID_TAG = 'tenantry:tenant-id';

/** The state machine's name: fixed, so that other stacks can name its executions in IAM. */
export const provisioningStateMachineName = (stage: string) => `tenantry-${stage}-provisioning`;

/** Name prefix of the per-tenant database secrets (short: see shared/provisioning/names.ts). */
export { tenantSecretPrefix };

export interface ProvisioningStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  readonly cluster: rds.DatabaseCluster;
  readonly eventBus: events.IEventBus;
}

/**
 * The tenant provisioning saga: one Standard state machine from the shared definition, one
 * function per step. Steps create and drop tenant databases through the Data API and manage the
 * tenant's secret, which IAM restricts to secrets tagged with a tenant id.
 */
export class ProvisioningStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly stepFunctions: Record<ProvisioningStep, TenantryFunction>;
  /** Applies the control database migrations on deploy. */
  readonly controlMigrations: CustomResource;
  /** Answers CloudFormation for the migrator: a failed or timed-out migration fails the deploy. */
  readonly controlMigrationsProvider: cr.Provider;
  /** The framework function's role. */
  readonly controlMigrationsProviderRole: iam.Role;

  constructor(scope: Construct, id: string, props: ProvisioningStackProps) {
    super(scope, id, props);

    const tenantSecretsArn = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${tenantSecretPrefix(props.stage)}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    const entries = Object.entries(provisioningSteps) as [ProvisioningStep, string][];
    const stepFunctions = {} as Record<ProvisioningStep, TenantryFunction>;
    for (const [step, handler] of entries) {
      const fn = new TenantryFunction(this, step, {
        handler,
        stage: props.stage,
        policy: props.policy,
        // Creating a database through the Data API can take a while; the Data API gives up at 45 s.
        timeout: Duration.seconds(60),
        serviceName: 'tenantry-provisioning',
      });
      grantDataApi(fn, props.cluster);
      grantBus(fn, props.eventBus);
      fn.addEnvironment('TENANT_SECRET_PREFIX', tenantSecretPrefix(props.stage));
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'CreateTaggedTenantSecrets',
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
          resources: [tenantSecretsArn],
          conditions: { Null: { [`aws:RequestTag/${TENANT_ID_TAG}`]: 'false' } },
        }),
      );
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'UseTaggedTenantSecrets',
          actions: [
            'secretsmanager:GetSecretValue',
            'secretsmanager:PutSecretValue',
            'secretsmanager:DeleteSecret',
          ],
          resources: [tenantSecretsArn],
          conditions: { Null: { [`secretsmanager:ResourceTag/${TENANT_ID_TAG}`]: 'false' } },
        }),
      );
      // Metadata only, never a value. Without the tag condition, so that asking about a secret
      // that does not exist answers ResourceNotFoundException: a missing secret has no tags, and
      // under the condition IAM would refuse the call (AccessDeniedException). Deleting looks first.
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DescribeTenantSecrets',
          actions: ['secretsmanager:DescribeSecret'],
          resources: [tenantSecretsArn],
        }),
      );
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
      handler: 'ops/migrate-control-db',
      stage: props.stage,
      policy: props.policy,
      timeout: Duration.minutes(5),
      serviceName: 'tenantry-ops',
    });
    grantDataApi(migrator, props.cluster);
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
      properties: { version: String(Math.max(...controlMigrations.map((m) => m.version))) },
    });
  }
}
