import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { ConsoleBuildMissingError, consoleAssetsDir } from '#infra/console-assets';

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string[];
}

interface Statement {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

function only(template: Template, type: string): [string, Resource] {
  const found = Object.entries(template.findResources(type)) as [string, Resource][];
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
}

/** A template string value, with the region and URL suffix the template joins in spelled out. */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`Not a string or Fn::Join: ${JSON.stringify(value)}`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref === 'AWS::Region') return '<region>';
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
      throw new Error(`Unexpected part ${JSON.stringify(part)}`);
    })
    .join(join[0]);
}

/** The CSP's directives by name: `script-src 'self'` becomes `['script-src', ["'self'"]]`. */
function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(';').map((directive) => {
      const [name = '', ...sources] = directive.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

describe.each(['dev', 'prod'])('the web console on stage %s', (stage) => {
  let built: TenantryApp;
  let hosting: Template;
  let content: Template;
  let api: Template;

  beforeAll(() => {
    // Arrange: templates only; the console's files are a placeholder (bundle: false)
    built = buildApp({ stage, bundle: false, cloudFormationValidation: false });
    hosting = Template.fromStack(built.webConsole);
    content = Template.fromStack(built.webConsoleContent);
    api = Template.fromStack(built.api);
  });

  const distributionConfig = () =>
    only(hosting, 'AWS::CloudFront::Distribution')[1].Properties.DistributionConfig as Record<
      string,
      unknown
    >;
  const consoleBucketId = () =>
    Object.entries(hosting.findResources('AWS::S3::Bucket')).find(([id]) =>
      id.startsWith('ConsoleBucket'),
    )?.[0] as string;

  it('keeps the console bucket private: public access blocked, TLS only, encrypted, versioned', () => {
    const bucket = hosting.findResources('AWS::S3::Bucket')[consoleBucketId()] as Resource;
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 'console-bucket/' },
    });
  });

  it('lets only this distribution read the bucket, through origin access control (AWS:SourceArn)', () => {
    // Arrange
    const [distributionId] = only(hosting, 'AWS::CloudFront::Distribution');
    const [oacId, oac] = only(hosting, 'AWS::CloudFront::OriginAccessControl');
    const policy = Object.values(hosting.findResources('AWS::S3::BucketPolicy')).find(
      (candidate) =>
        JSON.stringify((candidate as Resource).Properties.Bucket) ===
        JSON.stringify({ Ref: consoleBucketId() }),
    ) as Resource;
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const allows = statements.filter(
      (statement) =>
        statement.Effect === 'Allow' &&
        // dev only: CDK's auto-delete provider empties the bucket on `cdk destroy`
        !JSON.stringify(statement.Principal).includes('CustomS3AutoDeleteObjectsCustomResourceProviderRole'),
    );

    // Assert: the one reader is CloudFront, for this distribution, and only s3:GetObject
    expect(allows).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [consoleBucketId(), 'Arn'] }, '/*']] },
        Condition: {
          StringEquals: {
            'AWS:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':cloudfront::',
                  { Ref: 'AWS::AccountId' },
                  ':distribution/',
                  { Ref: distributionId },
                ],
              ],
            },
          },
        },
      },
    ]);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const [origin] = distributionConfig().Origins as Record<string, unknown>[];
    expect(origin?.OriginAccessControlId).toEqual({ 'Fn::GetAtt': [oacId, 'Id'] });
    expect(origin?.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
  });

  it('serves HTTPS only (HTTP is redirected), GET and HEAD, over HTTP/2 and HTTP/3, index.html at /', () => {
    const config = distributionConfig();
    expect(config).toMatchObject({
      DefaultRootObject: 'index.html',
      HttpVersion: 'http2and3',
      DefaultCacheBehavior: {
        ViewerProtocolPolicy: 'redirect-to-https',
        AllowedMethods: ['GET', 'HEAD'],
      },
      Logging: { Prefix: 'distribution/' },
    });
    expect(config.CacheBehaviors).toBeUndefined();
  });

  it('answers a deep link (S3 403 without s3:ListBucket, or 404) with /index.html and 200', () => {
    expect(distributionConfig().CustomErrorResponses).toEqual([
      { ErrorCode: 403, ResponseCode: 200, ResponsePagePath: '/index.html' },
      { ErrorCode: 404, ResponseCode: 200, ResponsePagePath: '/index.html' },
    ]);
  });

  it('sends the security headers: a strict CSP, HSTS for a year or more, nosniff, DENY, referrer policy', () => {
    // Arrange
    const [policyId, policy] = only(hosting, 'AWS::CloudFront::ResponseHeadersPolicy');
    const headers = (policy.Properties.ResponseHeadersPolicyConfig as Record<string, unknown>)
      .SecurityHeadersConfig as Record<string, Record<string, unknown>>;
    const text = rendered(headers.ContentSecurityPolicy?.ContentSecurityPolicy);
    const csp = directives(text);

    // Assert
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(text).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*\s|\bhttp:/);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(csp.get('connect-src')).toEqual([
      "'self'",
      'https://*.execute-api.<region>.amazonaws.com',
      'https://cognito-idp.<region>.amazonaws.com',
    ]);
    for (const directive of ['frame-ancestors', 'base-uri', 'form-action', 'object-src']) {
      expect(csp.get(directive), directive).toEqual(["'none'"]);
    }
    expect(headers.ContentSecurityPolicy?.Override).toBe(true);
    expect(headers.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true, Override: true });
    expect(Number(headers.StrictTransportSecurity?.AccessControlMaxAgeSec)).toBeGreaterThanOrEqual(
      365 * 24 * 3600,
    );
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ReferrerPolicy).toEqual({
      ReferrerPolicy: 'strict-origin-when-cross-origin',
      Override: true,
    });
    expect(
      (distributionConfig().DefaultCacheBehavior as Record<string, unknown>).ResponseHeadersPolicyId,
    ).toEqual({
      Ref: policyId,
    });
  });

  it('lets the API answer CORS for exactly the console origin, https://<distribution domain>', () => {
    const [, httpApi] = only(api, 'AWS::ApiGatewayV2::Api');
    const cors = httpApi.Properties.CorsConfiguration as { AllowOrigins: unknown[] };
    expect(cors.AllowOrigins).toHaveLength(1);
    const [origin] = cors.AllowOrigins as { 'Fn::Join': [string, [string, { 'Fn::ImportValue': string }]] }[];
    const [prefix, domain] = origin?.['Fn::Join'][1] ?? [];
    expect(prefix).toBe('https://');
    expect(domain?.['Fn::ImportValue']).toMatch(
      new RegExp(`^Tenantry-${stage}-Console:ExportsOutputFnGetAttDistribution[0-9A-F]+DomainName`),
    );
    // The Api stack is deployed after the console's distribution, never the other way round.
    expect(built.api.dependencies).toContain(built.webConsole);
    expect(built.webConsole.dependencies).toEqual([]);
  });

  it('uploads the files and a config.json whose values are the API URL, the user pool and its client', () => {
    // Arrange
    const [, deployment] = only(content, 'Custom::CDKBucketDeployment');
    const keys = deployment.Properties.SourceObjectKeys as string[];
    const markers = deployment.Properties.SourceMarkers as Record<string, unknown>[];
    const configKey = keys[1]?.replace(/\.zip$/, '');
    const staged = path.join(built.app.outdir, `asset.${configKey}`, 'config.json');
    const config = JSON.parse(readFileSync(staged, 'utf8')) as Record<string, string>;
    /** A config value with each marker replaced by what CloudFormation will resolve. */
    const resolvedValue = (key: string) =>
      JSON.stringify(
        (config[key] ?? '')
          .split(/(<<marker:0xbaba:\d+>>)/)
          .filter(Boolean)
          .map((part) => markers[1]?.[part] ?? part),
      );

    // Assert
    expect(Object.keys(config).sort()).toEqual([
      'apiUrl',
      'clientId',
      'cognitoEndpoint',
      'region',
      'userPoolId',
    ]);
    expect(markers[0]).toEqual({});
    expect(resolvedValue('apiUrl')).toMatch(
      new RegExp(
        `^\\[\\{"Fn::ImportValue":"Tenantry-${stage}-Api:ExportsOutputFnGetAttHttpApi[0-9A-F]+ApiEndpoint`,
      ),
    );
    expect(resolvedValue('userPoolId')).toMatch(
      new RegExp(
        `^\\[\\{"Fn::ImportValue":"Tenantry-${stage}-Identity:ExportsOutputRefUserPool[0-9A-F]+"\\}\\]$`,
      ),
    );
    expect(resolvedValue('clientId')).toMatch(
      new RegExp(`^\\[\\{"Fn::ImportValue":"Tenantry-${stage}-Identity:ExportsOutputRefUserPoolAppClient`),
    );
    expect(resolvedValue('region')).toBe(JSON.stringify([{ Ref: 'AWS::Region' }]));
    expect(resolvedValue('cognitoEndpoint')).toBe(
      JSON.stringify(['https://cognito-idp.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/']),
    );
    expect(deployment.Properties).toMatchObject({
      DistributionPaths: ['/*'],
      Prune: true,
      SystemMetadata: { 'cache-control': 'no-cache' },
    });
    expect(deployment.Properties.DistributionId).toEqual({
      'Fn::ImportValue': expect.stringMatching(
        new RegExp(`^Tenantry-${stage}-Console:ExportsOutputRefDistribution`),
      ),
    });
  });

  it('gives the deployment a role of its own: no managed policy, no "*" resource, no action wildcard', () => {
    const [roleId, role] = only(content, 'AWS::IAM::Role');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const [, policy] = only(content, 'AWS::IAM::Policy');
    expect(policy.Properties.Roles).toEqual([{ Ref: roleId }]);
    const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const actions = statements.flatMap((statement) => [statement.Action].flat()).sort();
    expect(actions).toEqual([
      'cloudfront:CreateInvalidation',
      'cloudfront:GetInvalidation',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
    for (const statement of statements) expect([statement.Resource].flat()).not.toContain('*');
    const [, fn] = only(content, 'AWS::Lambda::Function');
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  it('outputs the console URL', () => {
    const [distributionId] = only(hosting, 'AWS::CloudFront::Distribution');
    hosting.hasOutput('ConsoleUrl', {
      Value: { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] },
    });
  });

  it(`${stage === 'dev' ? 'empties' : 'keeps'} the buckets on \`cdk destroy\`, as the stage policy says`, () => {
    for (const [id, bucket] of Object.entries(hosting.findResources('AWS::S3::Bucket')) as [
      string,
      { DeletionPolicy: string },
    ][]) {
      expect(bucket.DeletionPolicy, id).toBe(stage === 'dev' ? 'Delete' : 'Retain');
    }
    expect(Object.keys(hosting.findResources('Custom::S3AutoDeleteObjects'))).toHaveLength(
      stage === 'dev' ? 2 : 0,
    );
  });
});

describe('the console build', () => {
  it('fails synthesis with a clear message when bundling without web/dist', () => {
    const missing = path.join(tmpdir(), 'tenantry-no-such-console-build');
    expect(() => consoleAssetsDir(true, missing)).toThrow(ConsoleBuildMissingError);
    expect(() =>
      buildApp({ stage: 'dev', bundle: true, consoleDir: missing, cloudFormationValidation: false }),
    ).toThrow(/^web\/dist is missing: run npm run web:build/);
  });

  it('stages the same placeholder every time without bundling, so templates need no web build', () => {
    const dir = consoleAssetsDir(false);
    expect(consoleAssetsDir(false)).toBe(dir);
    expect(readFileSync(path.join(dir, 'index.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });
});
