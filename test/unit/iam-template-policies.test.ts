// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub and IAM policy variables are written ${…} inside plain strings.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  IntrinsicResolver,
  type TemplateStack,
  UnsupportedIntrinsicError,
  unresolvedName,
} from '#infra/local/iam/cfn-intrinsics';
import { readAssembly } from '#infra/local/iam/cloud-assembly';
import { templateNamedResources } from '#infra/local/iam/physical-names';
import { createTemplateAuthorizer, UnknownFunctionError } from '#infra/local/iam/template-authorizer';
import { functionPoliciesOf, statementsOf } from '#infra/local/iam/template-policies';

/*
 * Intrinsic resolution, the default physical names and the role → policy attachment, on small
 * hand-written templates. Intrinsics: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */

const SCOPE = { accountId: '000000000000', region: 'us-east-1' };

const data: TemplateStack = {
  name: 'Data',
  template: {
    Parameters: { Stage: { Type: 'String', Default: 'dev' }, NoDefault: { Type: 'String' } },
    Mappings: { Sizes: { dev: { Memory: '512' } } },
    Resources: {
      Orders: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'orders' } },
      Unnamed: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'bus' } },
      Flow: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'flow' } },
      Secret: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'app/db' } },
      Cluster: { Type: 'AWS::RDS::DBCluster', Properties: { DBClusterIdentifier: 'Tenantry-Dev' } },
      Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'exports' } },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'dlq' } },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/fn' } },
      Fn: { Type: 'AWS::Lambda::Function', Properties: { FunctionName: 'fn' } },
      Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'alarms' } },
      PathRole: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'ops', Path: '/team/' } },
      Pool: { Type: 'AWS::Cognito::UserPool', Properties: { UserPoolName: 'users' } },
    },
    Outputs: {
      TableArn: {
        Value: { 'Fn::GetAtt': ['Orders', 'Arn'] },
        Export: { Name: { 'Fn::Join': [':', [{ Ref: 'AWS::StackName' }, 'TableArn']] } },
      },
      Self: { Value: { 'Fn::ImportValue': 'Data:Self' }, Export: { Name: 'Data:Self' } },
    },
  },
};

const resolverFor = (stacks: TemplateStack[], resolvePhysical = templateNamedResourcesOf(stacks)) =>
  new IntrinsicResolver(stacks, { ...SCOPE, resolvePhysical });

function templateNamedResourcesOf(stacks: TemplateStack[]) {
  const byName = new Map(
    stacks.map((stack) => [stack.name, stack.template as { Resources: Record<string, never> }]),
  );
  return templateNamedResources((stack, id) => byName.get(stack)?.Resources[id], SCOPE);
}

describe('intrinsic functions', () => {
  const resolver = resolverFor([data]);
  const resolve = (value: unknown) => resolver.resolve('Data', value);

  it('resolves the pseudo parameters for the local account and region', () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
    expect(
      resolve(
        ['AWS::Partition', 'AWS::Region', 'AWS::AccountId', 'AWS::StackName', 'AWS::URLSuffix'].map(
          (Ref) => ({ Ref }),
        ),
      ),
    ).toEqual(['aws', 'us-east-1', '000000000000', 'Data', 'amazonaws.com']);
  });

  it('resolves Ref to a parameter default, a resource name, or a placeholder', () => {
    expect(resolve({ Ref: 'Stage' })).toBe('dev');
    expect(resolve({ Ref: 'Orders' })).toBe('orders');
    expect(resolve({ Ref: 'NoDefault' })).toBe(unresolvedName('parameter Data/NoDefault'));
    expect(resolve({ Ref: 'Unnamed' })).toBe('<unresolved Data/Unnamed>');
    expect(resolver.unresolved).toContain('<unresolved Data/Unnamed>');
    expect(() => resolve({ Ref: 'Missing' })).toThrow(UnsupportedIntrinsicError);
  });

  it('resolves Fn::GetAtt in its list and string forms', () => {
    expect(resolve({ 'Fn::GetAtt': ['Orders', 'Arn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/orders',
    );
    expect(resolve({ 'Fn::GetAtt': 'Bus.Arn' })).toBe('arn:aws:events:us-east-1:000000000000:event-bus/bus');
    expect(resolve({ 'Fn::GetAtt': ['Unnamed', 'StreamArn'] })).toBe('<unresolved Data/Unnamed.StreamArn>');
  });

  it('resolves Fn::Join, including over a resolved list', () => {
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Bucket' }, '/*']] };
    expect(resolve(arn)).toBe('arn:aws:s3:::exports/*');
    expect(resolve({ 'Fn::Join': ['-', { 'Fn::Split': [',', 'a,b,c'] }] })).toBe('a-b-c');
  });

  it('resolves Fn::Sub in both forms, with ${!Literal} kept literal', () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
    expect(
      resolve({
        'Fn::Sub':
          'arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName} ${Orders} ${!Stage}',
      }),
    ).toBe('arn:aws:sqs:us-east-1:000000000000:dlq orders ${Stage}');
    expect(
      resolve({
        'Fn::Sub': [
          '${Table}/index/${Index}',
          { Table: { 'Fn::GetAtt': ['Orders', 'Arn'] }, Index: 'byDate' },
        ],
      }),
    ).toBe('arn:aws:dynamodb:us-east-1:000000000000:table/orders/index/byDate');
  });

  it('resolves Fn::Select and Fn::Split, and refuses an index out of range', () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-select.html
    const split = { 'Fn::Split': [':', { 'Fn::GetAtt': ['Orders', 'Arn'] }] };
    expect(resolve({ 'Fn::Select': ['5', split] })).toBe('table/orders');
    expect(resolve({ 'Fn::Select': [0, ['a', 'b']] })).toBe('a');
    expect(() => resolve({ 'Fn::Select': [6, split] })).toThrow(UnsupportedIntrinsicError);
  });

  it("resolves Fn::ImportValue from another stack's exports, in that stack", () => {
    const api: TemplateStack = { name: 'Api', template: { Resources: {} } };
    const both = resolverFor([data, api]);
    expect(both.resolve('Api', { 'Fn::ImportValue': 'Data:TableArn' })).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/orders',
    );
    expect(both.resolve('Api', { 'Fn::ImportValue': 'Nobody:Exports' })).toBe(
      '<unresolved import Nobody:Exports>',
    );
    expect(() => both.resolve('Api', { 'Fn::ImportValue': 'Data:Self' })).toThrow(/imports itself/);
  });

  it('resolves Fn::FindInMap, drops AWS::NoValue, and refuses intrinsics it does not implement', () => {
    expect(resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'Memory'] })).toBe('512');
    expect(resolve({ a: 1, b: { Ref: 'AWS::NoValue' }, list: ['x', { Ref: 'AWS::NoValue' }] })).toEqual({
      a: 1,
      list: ['x'],
    });
    expect(() => resolve({ 'Fn::If': ['IsProd', 'a', 'b'] })).toThrow(UnsupportedIntrinsicError);
  });
});

describe('physical names the template sets, in the standard ARN formats', () => {
  const resolver = resolverFor([data]);
  const ref = (Ref: string) => resolver.resolve('Data', { Ref });
  const att = (id: string, attribute: string) => resolver.resolve('Data', { 'Fn::GetAtt': [id, attribute] });

  it.each([
    [
      'table',
      () => [ref('Orders'), att('Orders', 'Arn')],
      ['orders', 'arn:aws:dynamodb:us-east-1:000000000000:table/orders'],
    ],
    [
      'event bus',
      () => [ref('Bus'), att('Bus', 'Arn')],
      ['bus', 'arn:aws:events:us-east-1:000000000000:event-bus/bus'],
    ],
    [
      'state machine (Ref is the ARN)',
      () => [ref('Flow'), att('Flow', 'Name')],
      ['arn:aws:states:us-east-1:000000000000:stateMachine:flow', 'flow'],
    ],
    [
      'secret (the local store adds no suffix)',
      () => [ref('Secret')],
      ['arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db'],
    ],
    // RDS stores the identifier in lower case: https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html
    [
      'cluster',
      () => [ref('Cluster'), att('Cluster', 'DBClusterArn')],
      ['tenantry-dev', 'arn:aws:rds:us-east-1:000000000000:cluster:tenantry-dev'],
    ],
    ['bucket', () => [ref('Bucket'), att('Bucket', 'Arn')], ['exports', 'arn:aws:s3:::exports']],
    [
      'queue (Ref is the URL)',
      () => [ref('Queue'), att('Queue', 'Arn')],
      ['https://sqs.us-east-1.amazonaws.com/000000000000/dlq', 'arn:aws:sqs:us-east-1:000000000000:dlq'],
    ],
    // GetAtt Arn of a log group ends in ":*": https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html
    [
      'log group',
      () => [ref('Logs'), att('Logs', 'Arn')],
      ['/aws/lambda/fn', 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/fn:*'],
    ],
    [
      'function',
      () => [ref('Fn'), att('Fn', 'Arn')],
      ['fn', 'arn:aws:lambda:us-east-1:000000000000:function:fn'],
    ],
    [
      'topic (Ref is the ARN)',
      () => [ref('Topic'), att('Topic', 'TopicName')],
      ['arn:aws:sns:us-east-1:000000000000:alarms', 'alarms'],
    ],
    [
      'role with a path',
      () => [ref('PathRole'), att('PathRole', 'Arn')],
      ['ops', 'arn:aws:iam::000000000000:role/team/ops'],
    ],
  ])('%s', (_what, actual, expected) => {
    expect(actual()).toEqual(expected);
  });

  it('leaves what the template does not name to the platform: a user pool id is generated', () => {
    expect(ref('Pool')).toBe('<unresolved Data/Pool>');
  });
});

const roleTemplate = (extra: Record<string, unknown> = {}): TemplateStack => ({
  name: 'App',
  template: {
    Resources: {
      WorkerRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Tags: [{ Key: 'team', Value: 'billing' }],
          Policies: [
            {
              PolicyName: 'Inline',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: 'sqs:SendMessage',
                    Resource: { 'Fn::GetAtt': ['Queue', 'Arn'] },
                  },
                ],
              },
            },
          ],
          ManagedPolicyArns: [{ Ref: 'Shared' }, 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
        },
      },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs' } },
      Shared: {
        Type: 'AWS::IAM::ManagedPolicy',
        Properties: {
          ManagedPolicyName: 'shared',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 's3:GetObject',
                Resource: 'arn:aws:s3:::b/${aws:PrincipalTag/team}/*',
              },
            ],
          },
        },
      },
      Extra: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'Extra',
          Roles: [{ Ref: 'WorkerRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: { Effect: 'Deny', Action: 'sqs:DeleteQueue', Resource: '*' },
          },
        },
      },
      Worker: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
          Tags: [{ Key: 'tenantry:function', Value: 'jobs/run-job' }],
        },
      },
      Untagged: {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] } },
      },
      ...extra,
    },
  },
});

describe("a function's role and its policies", () => {
  it("collects the role's inline policies, the policies naming it in Roles and its managed policies", () => {
    const [worker, ...others] = functionPoliciesOf({ stacks: [roleTemplate()] });
    expect(others).toEqual([]);
    expect(worker).toMatchObject({
      entry: 'jobs/run-job',
      functionLogicalId: 'Worker',
      functionName: 'Worker',
      role: {
        logicalId: 'WorkerRole',
        name: 'WorkerRole',
        arn: 'arn:aws:iam::000000000000:role/WorkerRole',
        tags: { team: 'billing' },
      },
    });
    expect(worker?.policies.map((policy) => policy.name).sort()).toEqual(['Extra', 'Inline', 'shared']);
    expect(worker?.unresolved).toEqual([
      'managed policy arn:aws:iam::aws:policy/ReadOnlyAccess (not in the assembly: not evaluated)',
    ]);
    expect(statementsOf(worker as never)).toContainEqual({
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: 'arn:aws:sqs:us-east-1:000000000000:jobs',
    });
  });

  it('judges with all of them: the inline grant, the managed grant with the role tag, the explicit deny', async () => {
    const fns = functionPoliciesOf({ stacks: [roleTemplate()] });
    const { authorize, credentialsFor } = createTemplateAuthorizer(fns);
    const { accessKeyId, sessionArn } = credentialsFor('jobs/run-job');
    const ask = (action: string, resource: string) =>
      authorize({ accessKeyId, action, resource, context: {} });
    expect(sessionArn).toBe('arn:aws:sts::000000000000:assumed-role/WorkerRole/Worker');
    expect(await ask('sqs:SendMessage', 'arn:aws:sqs:us-east-1:000000000000:jobs')).toEqual({
      allowed: true,
    });
    expect(await ask('s3:GetObject', 'arn:aws:s3:::b/billing/report.csv')).toEqual({ allowed: true });
    expect(await ask('s3:GetObject', 'arn:aws:s3:::b/sales/report.csv')).toEqual({
      allowed: false,
      principalArn: sessionArn,
      explicit: false,
    });
    expect(await ask('sqs:DeleteQueue', 'arn:aws:sqs:us-east-1:000000000000:jobs')).toEqual({
      allowed: false,
      principalArn: sessionArn,
      explicit: true,
    });
  });

  it('gives sessions their own keys, with session tags over role tags, and ignores principal keys a stand-in passes', async () => {
    const { authorize, credentialsFor, sessionFor } = createTemplateAuthorizer(
      functionPoliciesOf({ stacks: [roleTemplate()] }),
    );
    const own = credentialsFor('jobs/run-job');
    const sales = sessionFor('jobs/run-job', { tags: { team: 'sales' }, sessionName: 'tenant-t_1' });
    expect(sales.accessKeyId).not.toBe(own.accessKeyId);
    expect(sales.sessionArn).toBe('arn:aws:sts::000000000000:assumed-role/WorkerRole/tenant-t_1');
    const read = (accessKeyId: string, context: Record<string, string> = {}) =>
      authorize({ accessKeyId, action: 's3:GetObject', resource: 'arn:aws:s3:::b/sales/r.csv', context });
    expect(await read(sales.accessKeyId)).toEqual({ allowed: true });
    expect(await read(own.accessKeyId, { 'aws:PrincipalTag/team': 'sales' })).toMatchObject({
      allowed: false,
    });
  });

  it('derives stable, distinct, AWS-shaped keys per function, and knows no other entry', () => {
    const stacks = [
      roleTemplate({
        Other: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
            Tags: [{ Key: 'tenantry:function', Value: 'jobs/other' }],
          },
        },
      }),
    ];
    const first = createTemplateAuthorizer(functionPoliciesOf({ stacks }));
    const again = createTemplateAuthorizer(functionPoliciesOf({ stacks }));
    const key = first.credentialsFor('jobs/run-job');
    expect(key.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(key.secretAccessKey).toMatch(/^[A-Z2-7]{40}$/);
    expect(again.credentialsFor('jobs/run-job')).toEqual(key);
    expect(first.credentialsFor('jobs/other').accessKeyId).not.toBe(key.accessKeyId);
    expect(() => first.credentialsFor('jobs/missing')).toThrow(UnknownFunctionError);
  });

  it('refuses a policy outside the evaluated subset at load time', () => {
    const odd = roleTemplate({
      Odd: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'Odd',
          Roles: [{ Ref: 'WorkerRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Action: 'a:b',
                Resource: '*',
                Condition: { DateLessThan: { 'aws:CurrentTime': '2030-01-01T00:00:00Z' } },
              },
            ],
          },
        },
      },
    });
    expect(() => functionPoliciesOf({ stacks: [odd] })).toThrow(/DateLessThan/);
  });
});

describe('readAssembly', () => {
  it('reads the stack templates that a cloud assembly manifest lists', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'tenantry-assembly-test-'));
    try {
      const { template } = roleTemplate();
      await writeFile(path.join(dir, 'App.template.json'), JSON.stringify(template));
      await writeFile(
        path.join(dir, 'manifest.json'),
        JSON.stringify({
          artifacts: {
            'App.assets': { type: 'cdk:asset-manifest', properties: { file: 'App.assets.json' } },
            App: {
              type: 'aws:cloudformation:stack',
              properties: { templateFile: 'App.template.json', stackName: 'Tenantry-test-App' },
            },
          },
        }),
      );
      const assembly = await readAssembly(dir);
      expect(assembly).toEqual({ stacks: [{ name: 'Tenantry-test-App', template }] });
      expect(functionPoliciesOf(assembly).map((fn) => fn.stack)).toEqual(['Tenantry-test-App']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
