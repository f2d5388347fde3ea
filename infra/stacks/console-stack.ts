import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StagePolicy } from '#infra/stage-policy';
import { consoleContentSecurityPolicy } from '#shared/http/console-headers';

export interface ConsoleStackProps extends StackProps {
  readonly stage: string;
  /** Durability and cost decisions of the stage (infra/stage-policy.ts). */
  readonly policy: StagePolicy;
  /**
   * An AWS WAF web ACL for the distribution (its ARN; a CLOUDFRONT-scope web ACL, made in
   * us-east-1).
   * @default - none: the distribution serves static files only (docs/console-hosting.md)
   */
  readonly webAclId?: string;
}

/**
 * Hosting of the web console (docs/console-hosting.md): a private bucket that only this
 * distribution reads, through origin access control, and the distribution that serves it over
 * HTTPS with the security headers of `consoleContentSecurityPolicy` and friends.
 *
 * Stack order, and why the files are not deployed here: the API's CORS allows exactly the
 * console's origin (`https://<distribution domain>`), so the Api stack takes `origin` from this
 * stack and is deployed after it; `config.json` names the API's URL, so it cannot be written
 * from this stack without a cycle. ConsoleContentStack, deployed last, uploads the files and
 * config.json into `bucket` and invalidates `distribution`.
 */
export class ConsoleStack extends Stack {
  /** The console's files: read by the distribution only, written by the console deployment. */
  readonly bucket: s3.Bucket;
  /** Standard logs of the distribution and server access logs of the console bucket. */
  readonly logsBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly responseHeadersPolicy: cloudfront.ResponseHeadersPolicy;
  /** `https://<distribution domain>`: the console's origin, the API's CORS origin. */
  readonly origin: string;
  /** The web ACL of the distribution, if one was given. */
  readonly webAclId: string | undefined;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    const { policy } = props;
    this.webAclId = props.webAclId;

    // CloudFront standard logging (legacy) writes to the bucket with an ACL grant to its
    // log-delivery account, so the bucket must have ACLs enabled: CDK's own log bucket uses
    // OBJECT_WRITER for that (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logging-legacy-s3.html,
    // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudfront-readme.html#logging).
    // ACLs grant no public access here: the bucket blocks all public access and enforces TLS.
    // The console bucket's server access logs land here too, granted by bucket policy
    // (`@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`, set in infra/app.ts).
    this.logsBucket = new s3.Bucket(this, 'LogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: policy.accessLogsExpiration }],
      removalPolicy: policy.removalPolicy,
      autoDeleteObjects: policy.autoDeleteObjects,
    });

    this.bucket = new s3.Bucket(this, 'ConsoleBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A bad console deploy can be undone from the previous versions for 30 days.
      versioned: true,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'console-bucket/',
      removalPolicy: policy.removalPolicy,
      autoDeleteObjects: policy.autoDeleteObjects,
      lifecycleRules: [
        {
          id: 'ExpireReplacedFiles',
          noncurrentVersionExpiration: Duration.days(30),
          expiredObjectDeleteMarker: true,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });

    const region = this.region;
    const cognitoEndpoint = `https://cognito-idp.${region}.${this.urlSuffix}`;
    const apiOrigins = `https://*.execute-api.${region}.${this.urlSuffix}`;
    this.responseHeadersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: `Tenantry ${props.stage} console: security headers`,
      // Each header replaces whatever the origin sent (S3 sends none of these)
      // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/understanding-response-headers-policies.html).
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          // The one policy of the console, shared with the local console server
          // (shared/http/console-headers.ts). `apiOrigins` is a source expression, not the API's
          // host: the console's origin is the API's one CORS origin, so the API is deployed after
          // the distribution and its id cannot be in this header without a cycle (see above).
          contentSecurityPolicy: consoleContentSecurityPolicy({ apiUrl: apiOrigins, cognitoEndpoint }),
          override: true,
        },
        // Two years, subdomains included; no `preload`: cloudfront.net is not ours to list.
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `Tenantry ${props.stage} web console`,
      defaultBehavior: {
        // Origin access control: CloudFront signs its requests to S3 (SigV4) and the bucket
        // policy allows s3:GetObject to the CloudFront service principal only when
        // AWS:SourceArn is this distribution; the bucket stays private
        // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html,
        // https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudfront_origins-readme.html).
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        // An http:// request gets a 301 to https:// (HSTS then keeps the browser on HTTPS)
        // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-https-viewers-to-cloudfront.html).
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeadersPolicy,
        compress: true,
      },
      defaultRootObject: 'index.html',
      // SPA fallback: a deep link such as /tenants/t_1 names no object. The origin access
      // control grants s3:GetObject only (no s3:ListBucket), so S3 answers a missing key with 403,
      // not 404 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions");
      // both are answered with /index.html and 200, and the app's router takes the path
      // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/custom-error-pages-procedure.html).
      errorResponses: [403, 404].map((httpStatus) => ({
        httpStatus,
        responseHttpStatus: 200,
        responsePagePath: '/index.html',
      })),
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // With the default *.cloudfront.net certificate CloudFront fixes the viewer security policy
      // at TLSv1 whatever MinimumProtocolVersion says
      // (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ViewerCertificate.html), and
      // CDK warns that the setting is ignored without a certificate; so none is set. A custom
      // domain with an ACM certificate would allow TLSv1.2_2021 (cdk-nag CFR4, infra/nag.ts).
      enableLogging: true,
      logBucket: this.logsBucket,
      logFilePrefix: 'distribution/',
      ...(props.webAclId ? { webAclId: props.webAclId } : {}),
    });

    this.origin = `https://${this.distribution.distributionDomainName}`;

    new CfnOutput(this, 'ConsoleUrl', {
      value: this.origin,
      description: 'URL of the Tenantry web console',
    });
  }
}
