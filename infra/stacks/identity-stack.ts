import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  DEFAULT_TENANT_PLANS,
  grantNeeds,
  type NeedCluster,
  type NeedResources,
} from '#infra/constructs/needs';
import { TenantryFunction } from '#infra/constructs/tenantry-function';
import type { StagePolicy } from '#infra/stage-policy';
import { IDENTITY_TRIGGER_HANDLERS, IDENTITY_TRIGGER_NEEDS, type Need } from '#shared/domain/needs';

/** Cognito groups for platform staff (not tenant roles). */
export const PLATFORM_GROUPS = ['platform-admin', 'finance'] as const;

/**
 * Whether platform staff must have a second factor: `required` leaves the platform groups out of
 * the tokens of a user without one (pre-token-generation trigger), so no platform route opens.
 */
export type PlatformMfa = 'required' | 'optional';

/** The pre-token-generation trigger's switch, `true` when platform groups require MFA. */
export const PLATFORM_MFA_ENV = 'PLATFORM_GROUPS_REQUIRE_MFA';

export interface IdentityTriggers {
  /**
   * Registers the tenant named in `custom:tenant_name` when a user confirms sign-up.
   * @default 'identity/post-confirmation'
   */
  readonly postConfirmation?: string | false;
  /**
   * Adds the caller's tenant claims to the tokens.
   * @default 'identity/pre-token-generation'
   */
  readonly preTokenGeneration?: string | false;
}

export interface IdentityStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  /** The control database, read by the triggers through the Data API. */
  readonly cluster: rds.DatabaseCluster;
  /** Every cluster tenant databases may be on (docs/clusters.md). @default - `cluster` alone */
  readonly clusters?: readonly NeedCluster[];
  /** The control database's application role secret (`controlDb`). */
  readonly controlAppSecret: secretsmanager.ISecret;
  /** Started by the post-confirmation trigger to provision the tenant registered at sign-up. */
  readonly provisioningWorkflow: sfn.IStateMachine;
  /**
   * The plan catalogue its functions get as `TENANT_PLANS` (JSON; infra/plans-context.ts).
   * @default '{}' - the default catalogue (free, standard, premium; free by default)
   */
  readonly tenantPlans?: string;
  /**
   * Handler entries of the Cognito triggers; `false` leaves the slot empty.
   * @default both triggers with their default entries
   */
  readonly triggers?: IdentityTriggers;
  /**
   * Cognito feature plan. ESSENTIALS is what a new pool gets by default and what the V2
   * pre-token-generation event needs to customise access tokens as well as ID tokens; LITE would
   * do for ID-token claims alone. PLUS adds threat protection at a higher price per MAU.
   * @default cognito.FeaturePlan.ESSENTIALS
   */
  readonly featurePlan?: cognito.FeaturePlan;
  /**
   * Second factor for the platform groups. Cognito's MFA setting is per pool (OFF, OPTIONAL,
   * REQUIRED), never per group
   * (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-settings-mfa.html), and a
   * pool-wide REQUIRED would block tenants' self sign-up. So with `required` the
   * pre-token-generation trigger asks the pool (AdminGetUser, UserMFASettingList) whether a user
   * in `platform-admin` or `finance` has a factor, and omits those groups from the tokens of one
   * who has none (groupOverrideDetails). Set it with `-c platformMfa=required`.
   * @default 'optional'
   */
  readonly platformMfa?: PlatformMfa;
}

/**
 * The Cognito user pool: email sign-in, self sign-up that registers a tenant, optional TOTP MFA,
 * the platform groups, and the post-confirmation and pre-token-generation triggers.
 */
export class IdentityStack extends Stack {
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly triggerFunctions: TenantryFunction[] = [];

  constructor(scope: Construct, id: string, props: IdentityStackProps) {
    super(scope, id, props);
    const featurePlan = props.featurePlan ?? cognito.FeaturePlan.ESSENTIALS;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `tenantry-${props.stage}`,
      featurePlan,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      selfSignUpEnabled: true,
      autoVerify: { email: true },
      keepOriginal: { email: true },
      standardAttributes: { email: { required: true, mutable: true } },
      customAttributes: {
        // Read once by the post-confirmation trigger to register the caller's tenant.
        tenant_name: new cognito.StringAttribute({ minLen: 1, maxLen: 100, mutable: true }),
      },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      deletionProtection: props.policy.deletionProtection,
      removalPolicy: props.policy.removalPolicy,
    });

    this.userPoolClient = this.userPool.addClient('AppClient', {
      userPoolClientName: `tenantry-${props.stage}-app`,
      generateSecret: false,
      // Exactly the flows in use: InitiateAuth with USER_PASSWORD_AUTH (the CLI, infra/local/client.ts,
      // and the tests) and REFRESH_TOKEN_AUTH (a new token after PUT /me/active-tenant), which CDK
      // adds to any flow it is given. No SRP, custom or admin flows: nothing here uses them, and an
      // allowed flow is a way in. An app client accepts only the flows in ExplicitAuthFlows
      // (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html#CognitoUserPools-CreateUserPoolClient-request-ExplicitAuthFlows,
      // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cognito.AuthFlow.html).
      authFlows: { userPassword: true },
      // The app signs in through the Cognito API, never through the hosted UI or the OAuth 2.0
      // endpoints, and the pool has no domain. Left on, CDK's defaults would allow the authorization code and implicit grants with
      // the placeholder callback URL https://example.com. With OAuth off,
      // AllowedOAuthFlowsUserPoolClient is false: only SDK-based API sign-in is permitted
      // (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-userpoolclient.html,
      // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cognito.UserPoolClientOptions.html).
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    for (const group of PLATFORM_GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: group,
        description: `Tenantry platform group ${group}`,
      });
    }

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId });

    const resources: NeedResources = {
      stage: props.stage,
      cluster: props.cluster,
      ...(props.clusters ? { clusters: props.clusters } : {}),
      controlAppSecret: props.controlAppSecret,
      provisioningWorkflow: props.provisioningWorkflow,
      userPool: this.userPool,
      tenantPlans: props.tenantPlans ?? DEFAULT_TENANT_PLANS,
    };
    const triggers = props.triggers ?? {};
    const postConfirmation = triggers.postConfirmation ?? IDENTITY_TRIGGER_HANDLERS.postConfirmation;
    if (postConfirmation) {
      const fn = this.createTrigger('PostConfirmation', postConfirmation, props);
      grantNeeds(fn, IDENTITY_TRIGGER_NEEDS.postConfirmation, resources);
      this.userPool.addTrigger(cognito.UserPoolOperation.POST_CONFIRMATION, fn.function);
    }
    const preTokenGeneration = triggers.preTokenGeneration ?? IDENTITY_TRIGGER_HANDLERS.preTokenGeneration;
    if (preTokenGeneration) {
      const fn = this.createTrigger('PreTokenGeneration', preTokenGeneration, props);
      const needs: readonly Need[] = IDENTITY_TRIGGER_NEEDS.preTokenGeneration;
      grantNeeds(fn, needs, resources);
      fn.addEnvironment(PLATFORM_MFA_ENV, String((props.platformMfa ?? 'optional') === 'required'));
      if (featurePlan === cognito.FeaturePlan.LITE) {
        this.userPool.addTrigger(cognito.UserPoolOperation.PRE_TOKEN_GENERATION, fn.function);
      } else {
        this.userPool.addTrigger(
          cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
          fn.function,
          cognito.LambdaVersion.V2_0,
        );
      }
    }
  }

  private createTrigger(id: string, handler: string, props: IdentityStackProps): TenantryFunction {
    const fn = new TenantryFunction(this, id, {
      handler,
      stage: props.stage,
      policy: props.policy,
      // Cognito waits at most 5 s for a trigger before failing the sign-up or sign-in.
      timeout: Duration.seconds(5),
      serviceName: 'tenantry-identity',
    });
    // No USER_POOL_ID here: the pool depends on the trigger, and the id arrives in every event.
    this.triggerFunctions.push(fn);
    return fn;
  }
}
