import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';
import type { StagePolicy } from '#infra/stage-policy';

/** `/config.json`, what the console reads at start to find the API and the user pool. */
export interface ConsoleConfig {
  /** The HTTP API's base URL, `https://<api id>.execute-api.<region>.amazonaws.com`. */
  readonly apiUrl: string;
  readonly region: string;
  readonly userPoolId: string;
  /** The user pool's app client (no secret: the console signs in through the Cognito API). */
  readonly clientId: string;
  /** The Cognito user pool API, `https://cognito-idp.<region>.amazonaws.com/`. */
  readonly cognitoEndpoint: string;
}

export interface ConsoleContentStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  /** The console bucket of ConsoleStack. */
  readonly bucket: s3.IBucket;
  /** The distribution that serves it: invalidated after each upload. */
  readonly distribution: cloudfront.IDistribution;
  /** The folder to upload: web/dist, or a placeholder (infra/console-assets.ts). */
  readonly consoleDir: string;
  /** The HTTP API's base URL (ApiStack's `httpApi.apiEndpoint`). */
  readonly apiUrl: string;
  readonly userPool: cognito.IUserPool;
  readonly userPoolClient: cognito.IUserPoolClient;
}

/**
 * Uploads the console's files and its `/config.json` into the console bucket at deploy time,
 * then invalidates the distribution. Its own stack, deployed after the Api and Identity stacks:
 * config.json names the API's URL and the user pool, and the Api stack itself comes after
 * ConsoleStack (its CORS origin is the distribution's domain), so neither of those two stacks
 * could hold this deployment without a cycle.
 *
 * CDK's BucketDeployment is a custom resource backed by a Lambda function and the AWS CLI
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_s3_deployment-readme.html). The
 * function gets the role made here, handed over without policy updates, so CDK's own grants (the
 * AWS managed AWSLambdaBasicExecutionRole, s3:GetObject*, s3:List* and s3:DeleteObject* on whole
 * buckets, and cloudfront:CreateInvalidation on "*") are not added: the role can write its own log
 * group, read its own two asset objects, sync the console bucket and invalidate this distribution.
 */
export class ConsoleContentStack extends Stack {
  readonly deployment: s3deploy.BucketDeployment;
  /** The deployment function's role. */
  readonly role: iam.Role;
  /** CDK's handler function of the deployment (one per stack, whatever the deployments). */
  readonly handler: lambda.Function;
  readonly config: ConsoleConfig;

  constructor(scope: Construct, id: string, props: ConsoleContentStackProps) {
    super(scope, id, props);

    this.config = {
      apiUrl: props.apiUrl,
      region: this.region,
      userPoolId: props.userPool.userPoolId,
      clientId: props.userPoolClient.userPoolClientId,
      cognitoEndpoint: `https://cognito-idp.${this.region}.${this.urlSuffix}/`,
    };

    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: props.policy.logRetention,
      removalPolicy: props.policy.removalPolicy,
    });
    this.role = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Tenantry console deployment (${props.stage})`,
    });
    logGroup.grantWrite(this.role);
    // What the handler does with the bucket: `aws s3 sync --delete` of the unpacked files into it
    // (ListObjectsV2, PutObject, multipart uploads, DeleteObject). Deletes keep a noncurrent
    // version: the bucket is versioned. retainOnDelete stays at its default (true), so the handler
    // never empties the bucket, and it reads no bucket tags (that is only on the delete path).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListConsoleBucket',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteConsoleFiles',
        actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: [props.bucket.arnForObjects('*')],
      }),
    );
    // Both actions support the distribution as resource
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html).
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'InvalidateConsoleDistribution',
        actions: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'],
        resources: [props.distribution.distributionArn],
      }),
    );

    this.deployment = new s3deploy.BucketDeployment(this, 'ConsoleFiles', {
      sources: [
        s3deploy.Source.asset(props.consoleDir),
        // Deploy-time values: CDK writes a marker per token into the file and the handler
        // substitutes the resolved values when it uploads it.
        s3deploy.Source.jsonData('config.json', this.config),
      ],
      destinationBucket: props.bucket,
      distribution: props.distribution,
      distributionPaths: ['/*'],
      // Every response revalidates with the edge (If-None-Match), so a browser never keeps an old
      // index.html or config.json after a deploy; the invalidation above refreshes the edge.
      cacheControl: [s3deploy.CacheControl.noCache()],
      role: this.role.withoutPolicyUpdates(),
      logGroup,
    });
    // s3:GetObject on exactly the two zip objects it downloads (`aws s3 cp`): the staged console
    // folder and the one holding config.json, both assets of the deployment itself.
    // (Direct children only: the AWS CLI layer's asset, deeper down, is fetched by Lambda itself.)
    const assets = this.deployment.node.children.filter(
      (child): child is s3assets.Asset => child instanceof s3assets.Asset,
    );
    if (assets.length !== 2) throw new Error(`Expected 2 console deployment assets, found ${assets.length}`);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDeploymentAssets',
        actions: ['s3:GetObject'],
        resources: assets.map((asset) => asset.bucket.arnForObjects(asset.s3ObjectKey)),
      }),
    );
    // The custom resource runs only once its role has these statements.
    this.deployment.node.addDependency(this.role);

    const handler = this.node.children.find(
      (child): child is lambda.Function =>
        child instanceof lambda.Function && child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (!handler) throw new Error('BucketDeployment created no Custom::CDKBucketDeployment function');
    this.handler = handler;
  }
}
