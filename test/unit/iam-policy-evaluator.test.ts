// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${…} inside plain strings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type PolicyDocument,
  parsePolicyDocument,
  UnsupportedPolicyError,
} from '#infra/local/iam/policy-document';
import { type EvaluatedRequest, evaluatePolicies } from '#infra/local/iam/policy-evaluator';

/*
 * The worked examples come from the IAM User Guide; each block cites its page. Where a page
 * states a rule without an example, the case is ours and says which rule it pins.
 */

const UG = 'https://docs.aws.amazon.com/IAM/latest/UserGuide';

const policy = (...Statement: unknown[]): PolicyDocument =>
  parsePolicyDocument({ Version: '2012-10-17', Statement });

const request = (
  action: string,
  resource: string,
  context: EvaluatedRequest['context'] = {},
): EvaluatedRequest => ({ action, resource, context });

const decide = (policies: PolicyDocument | PolicyDocument[], req: EvaluatedRequest) =>
  evaluatePolicies([policies].flat(), req);

describe(`explicit and implicit denies (${UG}/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html)`, () => {
  const getList = policy(
    { Sid: 'AllowGetList', Effect: 'Allow', Action: ['iam:Get*', 'iam:List*'], Resource: '*' },
    { Sid: 'DenyReports', Effect: 'Deny', Action: 'iam:*Report', Resource: '*' },
  );

  it('allows the Get and List actions', () => {
    expect(decide(getList, request('iam:GetUser', '*'))).toBe('allow');
    expect(decide(getList, request('iam:ListUsers', '*'))).toBe('allow');
  });

  it('implicitly denies every other IAM action, such as iam:CreatePolicy', () => {
    expect(decide(getList, request('iam:CreatePolicy', '*'))).toBe('implicit-deny');
  });

  it('explicitly denies report actions, even iam:GetOrganizationsAccessReport that Get* allows', () => {
    expect(decide(getList, request('iam:GetOrganizationsAccessReport', '*'))).toBe('explicit-deny');
  });

  it('keeps denying iam:GenerateCredentialReport when another policy grants it', () => {
    const grant = policy({ Effect: 'Allow', Action: 'iam:GenerateCredentialReport', Resource: '*' });
    expect(decide(grant, request('iam:GenerateCredentialReport', '*'))).toBe('allow');
    expect(decide([grant, getList], request('iam:GenerateCredentialReport', '*'))).toBe('explicit-deny');
  });

  it('lets a matching Deny win wherever it stands among any statements (property)', () => {
    const statements = [
      { Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', Action: 'sqs:*', Resource: '*' },
      { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' },
    ];
    const deny = { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' };
    fc.assert(
      fc.property(fc.shuffledSubarray(statements), fc.nat(), (chosen, at) => {
        const mixed = [...chosen];
        mixed.splice(at % (mixed.length + 1), 0, deny);
        return decide(policy(...mixed), request('s3:GetObject', 'arn:aws:s3:::b/k')) === 'explicit-deny';
      }),
    );
  });
});

describe(`a single-account evaluation (${UG}/reference_policies_evaluation-logic_policy-eval-basics.html)`, () => {
  const carlos = policy(
    {
      Sid: 'AllowS3ListRead',
      Effect: 'Allow',
      Action: [
        's3:GetBucketLocation',
        's3:GetAccountPublicAccessBlock',
        's3:ListAccessPoints',
        's3:ListAllMyBuckets',
      ],
      Resource: 'arn:aws:s3:::*',
    },
    {
      Sid: 'AllowS3Self',
      Effect: 'Allow',
      Action: 's3:*',
      Resource: [
        'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/*',
        'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar',
      ],
    },
    { Sid: 'DenyS3Logs', Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::*log*' },
  );

  it('denies Carlos saving a file to the logs bucket: DenyS3Logs matches', () => {
    const put = request('s3:PutObject', 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar-logs/file.txt');
    expect(decide(carlos, put)).toBe('explicit-deny');
  });

  it('allows full access to his own bucket and reading any bucket location', () => {
    expect(
      decide(carlos, request('s3:PutObject', 'arn:aws:s3:::amzn-s3-demo-bucket-carlossalazar/a.txt')),
    ).toBe('allow');
    expect(decide(carlos, request('s3:GetBucketLocation', 'arn:aws:s3:::another-bucket'))).toBe('allow');
  });

  it('leaves anything else implicitly denied', () => {
    expect(decide(carlos, request('s3:GetObject', 'arn:aws:s3:::another-bucket/a.txt'))).toBe(
      'implicit-deny',
    );
  });
});

describe(`Action (${UG}/reference_policies_elements_action.html) and NotAction`, () => {
  it('compares prefix and action name case-insensitively: iam:ListAccessKeys is IAM:listaccesskeys', () => {
    const listKeys = policy({ Effect: 'Allow', Action: 'IAM:listaccesskeys', Resource: '*' });
    expect(decide(listKeys, request('iam:ListAccessKeys', '*'))).toBe('allow');
  });

  it('matches * and ? inside action names (iam:*AccessKey*, s3:Get?bject)', () => {
    const keys = policy({ Effect: 'Allow', Action: ['iam:*AccessKey*', 's3:Get?bject'], Resource: '*' });
    expect(decide(keys, request('iam:CreateAccessKey', '*'))).toBe('allow');
    expect(decide(keys, request('iam:ListAccessKeys', '*'))).toBe('allow');
    expect(decide(keys, request('s3:GetObject', '*'))).toBe('allow');
    expect(decide(keys, request('s3:GetObjects', '*'))).toBe('implicit-deny');
  });

  it(`allows all S3 actions on S3 resources but DeleteBucket, and nothing outside S3 (${UG}/reference_policies_elements_notaction.html)`, () => {
    const notDelete = policy({ Effect: 'Allow', NotAction: 's3:DeleteBucket', Resource: 'arn:aws:s3:::*' });
    expect(decide(notDelete, request('s3:GetObject', 'arn:aws:s3:::bucket/key'))).toBe('allow');
    expect(decide(notDelete, request('s3:DeleteBucket', 'arn:aws:s3:::bucket'))).toBe('implicit-deny');
    expect(decide(notDelete, request('iam:ListUsers', 'arn:aws:iam::123456789012:user/x'))).toBe(
      'implicit-deny',
    );
  });

  it('denies non-IAM actions without MFA, the DenyAllUsersNotUsingMFA example (BoolIfExists)', () => {
    const mfa = [
      policy({ Effect: 'Allow', Action: '*', Resource: '*' }),
      policy({
        Sid: 'DenyAllUsersNotUsingMFA',
        Effect: 'Deny',
        NotAction: 'iam:*',
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      }),
    ];
    const get = (context: EvaluatedRequest['context']) =>
      request('s3:GetObject', 'arn:aws:s3:::b/k', context);
    expect(decide(mfa, get({ 'aws:MultiFactorAuthPresent': 'false' }))).toBe('explicit-deny');
    expect(decide(mfa, get({}))).toBe('explicit-deny');
    expect(decide(mfa, get({ 'aws:MultiFactorAuthPresent': 'true' }))).toBe('allow');
    expect(decide(mfa, request('iam:ListUsers', '*', { 'aws:MultiFactorAuthPresent': 'false' }))).toBe(
      'allow',
    );
  });
});

describe(`Resource (${UG}/reference_policies_elements_resource.html) and NotResource`, () => {
  it('compares ARNs case-sensitively: user/Bob is not user/bob', () => {
    const bob = policy({
      Effect: 'Allow',
      Action: 'iam:GetUser',
      Resource: 'arn:aws:iam::123456789012:user/Bob',
    });
    expect(decide(bob, request('iam:GetUser', 'arn:aws:iam::123456789012:user/Bob'))).toBe('allow');
    expect(decide(bob, request('iam:GetUser', 'arn:aws:iam::123456789012:user/bob'))).toBe('implicit-deny');
  });

  it('lets * replace everything within a segment, slashes included (user/accounting/*)', () => {
    const accounting = policy({
      Effect: 'Allow',
      Action: 'iam:GetUser',
      Resource: 'arn:aws:iam::123456789012:user/accounting/*',
    });
    expect(
      decide(accounting, request('iam:GetUser', 'arn:aws:iam::123456789012:user/accounting/team/ann')),
    ).toBe('allow');
    expect(decide(accounting, request('iam:GetUser', 'arn:aws:iam::123456789012:user/sales/ann'))).toBe(
      'implicit-deny',
    );
  });

  it('lets a * that ends a segment expand past colons, and keeps other wildcards inside one', () => {
    const executions = policy(
      {
        Effect: 'Allow',
        Action: 'states:DescribeExecution',
        Resource: 'arn:aws:states:*:*:execution:flow:*',
      },
      { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:aws:logs:us-east-1:1:log-group:g*s' },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:us-east-1:1:q?' },
    );
    expect(
      decide(
        executions,
        request('states:DescribeExecution', 'arn:aws:states:us-east-1:1:execution:flow:t_1'),
      ),
    ).toBe('allow');
    expect(
      decide(
        executions,
        request('states:DescribeExecution', 'arn:aws:states:us-east-1:1:execution:other:t_1'),
      ),
    ).toBe('implicit-deny');
    // A mid-segment * stops at the colon: g*s does not reach over ":log-stream:".
    expect(
      decide(executions, request('logs:PutLogEvents', 'arn:aws:logs:us-east-1:1:log-group:groups')),
    ).toBe('allow');
    expect(
      decide(executions, request('logs:PutLogEvents', 'arn:aws:logs:us-east-1:1:log-group:g:log-stream:s')),
    ).toBe('implicit-deny');
    expect(decide(executions, request('sqs:SendMessage', 'arn:aws:sqs:us-east-1:1:q1'))).toBe('allow');
    expect(decide(executions, request('sqs:SendMessage', 'arn:aws:sqs:us-east-1:1:q12'))).toBe(
      'implicit-deny',
    );
  });

  it(`denies every S3 resource but the Payroll folder, the HRPayroll example (${UG}/reference_policies_elements_notresource.html)`, () => {
    const payroll = [
      policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
      policy({
        Effect: 'Deny',
        Action: 's3:*',
        NotResource: ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'],
      }),
    ];
    expect(decide(payroll, request('s3:GetObject', 'arn:aws:s3:::HRBucket/Payroll/june.csv'))).toBe('allow');
    expect(decide(payroll, request('s3:GetObject', 'arn:aws:s3:::HRBucket/Recruiting/cv.pdf'))).toBe(
      'explicit-deny',
    );
  });
});

describe(`condition operators (${UG}/reference_policies_elements_condition_operators.html)`, () => {
  it('StringEquals on aws:PrincipalTag/job-category: tagged principals only; without the tag, implicitly denied', () => {
    const admins = policy({
      Effect: 'Allow',
      Action: 'iam:*AccessKey*',
      Resource: 'arn:aws:iam::111122223333:user/*',
      Condition: { StringEquals: { 'aws:PrincipalTag/job-category': 'iamuser-admin' } },
    });
    const create = (context: EvaluatedRequest['context']) =>
      request('iam:CreateAccessKey', 'arn:aws:iam::111122223333:user/ann', context);
    expect(decide(admins, create({ 'aws:PrincipalTag/job-category': 'iamuser-admin' }))).toBe('allow');
    expect(decide(admins, create({ 'aws:PrincipalTag/job-category': 'IAMUSER-ADMIN' }))).toBe(
      'implicit-deny',
    );
    expect(decide(admins, create({}))).toBe('implicit-deny');
  });

  it('StringLike with ${aws:username}: each user lists and uses only their own home directory', () => {
    const home = policy(
      {
        Effect: 'Allow',
        Action: ['s3:ListAllMyBuckets', 's3:GetBucketLocation'],
        Resource: 'arn:aws:s3:::*',
      },
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: 'arn:aws:s3:::BUCKET-NAME',
        Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/'] } },
      },
      {
        Effect: 'Allow',
        Action: 's3:*',
        Resource: [
          'arn:aws:s3:::BUCKET-NAME/home/${aws:username}',
          'arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*',
        ],
      },
    );
    const david = { 'aws:username': 'David' };
    const list = (prefix: string) =>
      request('s3:ListBucket', 'arn:aws:s3:::BUCKET-NAME', { ...david, 's3:prefix': prefix });
    expect(decide(home, list('home/David/'))).toBe('allow');
    expect(decide(home, list(''))).toBe('allow');
    expect(decide(home, list('home/Adele/'))).toBe('implicit-deny');
    expect(decide(home, request('s3:GetObject', 'arn:aws:s3:::BUCKET-NAME/home/David/cv.pdf', david))).toBe(
      'allow',
    );
    expect(decide(home, request('s3:GetObject', 'arn:aws:s3:::BUCKET-NAME/home/Adele/cv.pdf', david))).toBe(
      'implicit-deny',
    );
  });

  it('NumericLessThanEquals on s3:max-keys: up to 10 objects at a time', () => {
    const tenAtATime = policy({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::example_bucket',
      Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } },
    });
    const list = (context: EvaluatedRequest['context']) =>
      request('s3:ListBucket', 'arn:aws:s3:::example_bucket', context);
    expect(decide(tenAtATime, list({ 's3:max-keys': '10' }))).toBe('allow');
    expect(decide(tenAtATime, list({ 's3:max-keys': '11' }))).toBe('implicit-deny');
    expect(decide(tenAtATime, list({ 's3:max-keys': 'ten' }))).toBe('implicit-deny');
    expect(decide(tenAtATime, list({}))).toBe('implicit-deny');
  });

  it('Bool on aws:SecureTransport: the BooleanExample denies S3 over plain HTTP', () => {
    const tls = [
      policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
      policy({
        Sid: 'BooleanExample',
        Action: 's3:*',
        Effect: 'Deny',
        Resource: ['arn:aws:s3:::DOC-EXAMPLE-BUCKET', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*'],
        Condition: { Bool: { 'aws:SecureTransport': false } },
      }),
    ];
    const get = (secure: string) =>
      request('s3:GetObject', 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/k', { 'aws:SecureTransport': secure });
    expect(decide(tls, get('false'))).toBe('explicit-deny');
    expect(decide(tls, get('true'))).toBe('allow');
  });

  it('ArnLike matches component by component where StringLike spans colons (the finance/* example)', () => {
    const pattern = 'arn:aws:someservice:*:111122223333:finance/*';
    const value = 'arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt';
    const withOperator = (operator: string) =>
      policy({
        Effect: 'Allow',
        Action: 'someservice:Read',
        Resource: '*',
        Condition: { [operator]: { 'aws:SourceArn': pattern } },
      });
    const read = request('someservice:Read', '*', { 'aws:SourceArn': value });
    expect(decide(withOperator('StringLike'), read)).toBe('allow');
    expect(decide(withOperator('ArnLike'), read)).toBe('implicit-deny');
    expect(decide(withOperator('ArnEquals'), read)).toBe('implicit-deny');
    const sameAccount = request('someservice:Read', '*', {
      'aws:SourceArn': 'arn:aws:someservice:us-east-2:111122223333:finance/document.txt',
    });
    expect(decide(withOperator('ArnLike'), sameAccount)).toBe('allow');
    // ArnEquals "behaves identically" to ArnLike, wildcards included.
    expect(decide(withOperator('ArnEquals'), sameAccount)).toBe('allow');
  });

  it('StringLikeIfExists on ec2:InstanceType: a resource without the key passes, unlike plain StringLike', () => {
    const types = ['t1.*', 't2.*', 'm3.*'];
    const runInstance = policy({
      Sid: 'RunInstance',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { StringLikeIfExists: { 'ec2:InstanceType': types } },
    });
    const doesNotWork = policy({
      Sid: 'THISPOLICYDOESNOTWORK',
      Effect: 'Allow',
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { StringLike: { 'ec2:InstanceType': types } },
    });
    const run = (context: EvaluatedRequest['context']) => request('ec2:RunInstances', '*', context);
    expect(decide(runInstance, run({ 'ec2:InstanceType': 't2.micro' }))).toBe('allow');
    expect(decide(runInstance, run({ 'ec2:InstanceType': 'm5.large' }))).toBe('implicit-deny');
    expect(decide(runInstance, run({}))).toBe('allow');
    expect(decide(doesNotWork, run({}))).toBe('implicit-deny');
  });

  it('Null on aws:TokenIssueTime: EC2 only with long-term credentials', () => {
    const noTemporary = policy({
      Action: 'ec2:*',
      Effect: 'Allow',
      Resource: '*',
      Condition: { Null: { 'aws:TokenIssueTime': 'true' } },
    });
    expect(decide(noTemporary, request('ec2:DescribeInstances', '*'))).toBe('allow');
    expect(
      decide(
        noTemporary,
        request('ec2:DescribeInstances', '*', { 'aws:TokenIssueTime': '2024-01-01T00:00:00Z' }),
      ),
    ).toBe('implicit-deny');
    const tagged = policy({
      Action: 'secretsmanager:GetSecretValue',
      Effect: 'Allow',
      Resource: '*',
      Condition: { Null: { 'secretsmanager:ResourceTag/tenantry:tenant-id': 'false' } },
    });
    expect(
      decide(
        tagged,
        request('secretsmanager:GetSecretValue', '*', {
          'secretsmanager:ResourceTag/tenantry:tenant-id': 't_1',
        }),
      ),
    ).toBe('allow');
    expect(decide(tagged, request('secretsmanager:GetSecretValue', '*'))).toBe('implicit-deny');
  });

  it('makes a missing key false for positive operators and true for negated ones', () => {
    const onKey = (operator: string) =>
      policy({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: '*',
        Condition: { [operator]: { 'aws:SourceArn': 'arn:aws:sns:*:*:t' } },
      });
    const send = request('sqs:SendMessage', '*');
    for (const positive of ['StringEquals', 'StringLike', 'StringEqualsIgnoreCase', 'ArnEquals', 'ArnLike']) {
      expect(decide(onKey(positive), send), positive).toBe('implicit-deny');
    }
    for (const negated of [
      'StringNotEquals',
      'StringNotLike',
      'StringNotEqualsIgnoreCase',
      'ArnNotEquals',
      'ArnNotLike',
    ]) {
      expect(decide(onKey(negated), send), negated).toBe('allow');
    }
  });

  it('StringEquals is case-sensitive and StringEqualsIgnoreCase is not: johndoe and JohnDoe', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    const exact = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { StringEquals: { 'aws:username': 'johndoe' } },
    });
    const loose = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { StringEqualsIgnoreCase: { 'aws:username': 'johndoe' } },
    });
    const asJohnDoe = request('s3:GetObject', '*', { 'aws:username': 'JohnDoe' });
    expect(decide(exact, asJohnDoe)).toBe('implicit-deny');
    expect(decide(loose, asJohnDoe)).toBe('allow');
    expect(decide(exact, request('s3:GetObject', '*', { 'aws:username': 'johndoe' }))).toBe('allow');
  });

  it('reads condition key names case-insensitively: aws:SourceIP is AWS:SourceIp, tag keys too', () => {
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    const fromIp = policy({
      Effect: 'Allow',
      Action: 'ec2:*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceIP': '203.0.113.7', 'ec2:ResourceTag/TagKey1': 'Value1' } },
    });
    const context = { 'AWS:SourceIp': '203.0.113.7', 'ec2:ResourceTag/tagkey1': 'Value1' };
    expect(decide(fromIp, request('ec2:StartInstances', '*', context))).toBe('allow');
  });

  it('compares numbers as numbers with each Numeric operator', () => {
    const numericIs = (operator: string, limit: string) =>
      policy({
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: '*',
        Condition: { [operator]: { 's3:max-keys': limit } },
      });
    const list = (keys: string) => request('s3:ListBucket', '*', { 's3:max-keys': keys });
    const cases: [string, string, string, boolean][] = [
      ['NumericEquals', '10', '10.0', true],
      ['NumericEquals', '10', '11', false],
      ['NumericNotEquals', '10', '11', true],
      ['NumericNotEquals', '10', '10', false],
      ['NumericLessThan', '10', '9.5', true],
      ['NumericLessThan', '10', '10', false],
      ['NumericGreaterThan', '10', '10', false],
      ['NumericGreaterThan', '10', '100', true],
      ['NumericGreaterThanEquals', '10', '10', true],
      ['NumericLessThanEquals', '10', '', false],
    ];
    for (const [operator, limit, value, allowed] of cases) {
      expect(decide(numericIs(operator, limit), list(value)), `${operator} ${limit} vs ${value}`).toBe(
        allowed ? 'allow' : 'implicit-deny',
      );
    }
  });
});

describe(`several keys and values (${UG}/reference_policies_condition-logic-multiple-context-keys-or-values.html)`, () => {
  const statement = policy({
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: '*',
    Condition: {
      StringEquals: {
        'aws:PrincipalTag/department': ['finance', 'hr', 'legal'],
        'aws:PrincipalTag/role': ['audit', 'security'],
      },
      ArnLike: {
        'aws:PrincipalArn': ['arn:aws:iam::222222222222:user/Ana', 'arn:aws:iam::222222222222:user/Mary'],
      },
    },
  });
  const list = (context: EvaluatedRequest['context']) => request('s3:ListBucket', '*', context);
  const mary = { 'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Mary' };

  it('ANDs the operators and the keys, and ORs the values of one key', () => {
    expect(
      decide(
        statement,
        list({ ...mary, 'aws:PrincipalTag/department': 'hr', 'aws:PrincipalTag/role': 'audit' }),
      ),
    ).toBe('allow');
    expect(decide(statement, list({ ...mary, 'aws:PrincipalTag/department': 'hr' }))).toBe('implicit-deny');
    expect(
      decide(
        statement,
        list({ ...mary, 'aws:PrincipalTag/department': 'sales', 'aws:PrincipalTag/role': 'audit' }),
      ),
    ).toBe('implicit-deny');
    expect(
      decide(
        statement,
        list({
          'aws:PrincipalArn': 'arn:aws:iam::222222222222:user/Bob',
          'aws:PrincipalTag/department': 'hr',
          'aws:PrincipalTag/role': 'audit',
        }),
      ),
    ).toBe('implicit-deny');
  });

  it('NORs the values of a negated operator: StringNotEquals [audit, security] holds only for other values', () => {
    const notAudit = policy({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:PrincipalTag/role': ['audit', 'security'] } },
    });
    expect(decide(notAudit, list({ 'aws:PrincipalTag/role': 'audit' }))).toBe('implicit-deny');
    expect(decide(notAudit, list({ 'aws:PrincipalTag/role': 'security' }))).toBe('implicit-deny');
    expect(decide(notAudit, list({ 'aws:PrincipalTag/role': 'dev' }))).toBe('allow');
  });
});

describe(`set operators (${UG}/reference_policies_condition-single-vs-multi-valued-context-keys.html)`, () => {
  it(`ForAllValues:StringNotLike on aws:TagKeys, the table of ${UG}/reference_policies_condition_examples-multi-valued-context-keys.html`, () => {
    const denyRestricted = [
      policy({ Effect: 'Allow', Action: 'iam:Tag*', Resource: '*' }),
      policy({
        Sid: 'DenyRestrictedTags',
        Effect: 'Deny',
        Action: ['iam:Tag*', 'iam:UnTag*'],
        Resource: ['*'],
        Condition: { 'ForAllValues:StringNotLike': { 'aws:TagKeys': 'key1*' } },
      }),
    ];
    const tag = (keys?: string[]) => request('iam:TagUser', '*', keys ? { 'aws:TagKeys': keys } : {});
    expect(decide(denyRestricted, tag(['key1:legal']))).toBe('allow');
    expect(decide(denyRestricted, tag(['key1:hr', 'key1:personnel']))).toBe('allow');
    expect(decide(denyRestricted, tag(['key2:audit']))).toBe('explicit-deny');
    expect(decide(denyRestricted, tag())).toBe('explicit-deny');
  });

  // The Thread table examples of the set-operations page, as published in the IAM User Guide's
  // source: https://github.com/awsdocs/iam-user-guide/blob/main/doc_source/reference_policies_multi-value-conditions.md
  const thread = 'arn:aws:dynamodb:us-east-1:123456789012:table/Thread';
  const attributes = (action: string, names: string[]) =>
    request(action, thread, { 'dynamodb:requestedAttributes': names });

  it('ForAllValues:StringLike: every requested attribute must be listed', () => {
    const onlySome = policy({
      Effect: 'Allow',
      Action: 'dynamodb:GetItem',
      Resource: thread,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:requestedAttributes': ['PostDateTime', 'Message', 'Tags'] },
      },
    });
    expect(decide(onlySome, attributes('dynamodb:GetItem', ['PostDateTime', 'Message']))).toBe('allow');
    expect(decide(onlySome, attributes('dynamodb:GetItem', ['PostDateTime', 'UserName']))).toBe(
      'implicit-deny',
    );
    // ForAllValues also holds when the request has no value for the key at all.
    expect(decide(onlySome, request('dynamodb:GetItem', thread))).toBe('allow');
  });

  it('ForAnyValue:StringLike: one forbidden attribute is enough for the Deny', () => {
    const protect = [
      policy({ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: thread }),
      policy({
        Effect: 'Deny',
        Action: 'dynamodb:PutItem',
        Resource: thread,
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:requestedAttributes': ['ID', 'PostDateTime'] } },
      }),
    ];
    expect(decide(protect, attributes('dynamodb:PutItem', ['UserName', 'Message', 'PostDateTime']))).toBe(
      'explicit-deny',
    );
    expect(decide(protect, attributes('dynamodb:PutItem', ['UserName']))).toBe('allow');
    // ForAnyValue is false without values ("null data set"), so the Deny does not apply.
    expect(decide(protect, attributes('dynamodb:PutItem', []))).toBe('allow');
    expect(decide(protect, request('dynamodb:PutItem', thread))).toBe('allow');
  });

  it('…IfExists on a set operator holds when the key is missing', () => {
    const anyIfExists = policy({
      Effect: 'Allow',
      Action: 'dynamodb:Query',
      Resource: thread,
      Condition: { 'ForAnyValue:StringEqualsIfExists': { 'dynamodb:Attributes': ['ID'] } },
    });
    expect(decide(anyIfExists, request('dynamodb:Query', thread))).toBe('allow');
    expect(
      decide(anyIfExists, request('dynamodb:Query', thread, { 'dynamodb:Attributes': ['Message'] })),
    ).toBe('implicit-deny');
  });
});

describe(`policy variables (${UG}/reference_policies_variables.html)`, () => {
  const queues = policy(
    { Sid: 'ListForConsole', Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' },
    {
      Sid: 'AllQueueActions',
      Effect: 'Allow',
      Action: 'sqs:*',
      Resource: 'arn:aws:sqs:us-east-2:*:${aws:username}-queue',
    },
  );

  it('substitutes ${aws:username} in a Resource: each user their own queue', () => {
    const asAnn = { 'aws:username': 'ann' };
    expect(
      decide(queues, request('sqs:SendMessage', 'arn:aws:sqs:us-east-2:123456789012:ann-queue', asAnn)),
    ).toBe('allow');
    expect(
      decide(queues, request('sqs:SendMessage', 'arn:aws:sqs:us-east-2:123456789012:bob-queue', asAnn)),
    ).toBe('implicit-deny');
  });

  it('substitutes a principal tag: the bucket named after the caller department', () => {
    const department = policy({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: ['arn:aws:s3:::bucket/${aws:PrincipalTag/department}'],
    });
    const list = request('s3:ListBucket', 'arn:aws:s3:::bucket/hr', { 'aws:PrincipalTag/department': 'hr' });
    expect(decide(department, list)).toBe('allow');
    expect(decide(department, { ...list, context: { 'aws:principaltag/DEPARTMENT': 'hr' } })).toBe('allow');
    expect(decide(department, { ...list, context: { 'aws:PrincipalTag/department': 'finance' } })).toBe(
      'implicit-deny',
    );
  });

  it('makes a statement with an unresolvable variable match nothing, Allow and Deny alike', () => {
    const noUser = request('sqs:SendMessage', 'arn:aws:sqs:us-east-2:123456789012:-queue');
    expect(decide(queues, noUser)).toBe('implicit-deny');
    const denyOthers = [
      policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }),
      policy({
        Effect: 'Deny',
        Action: 's3:GetObject',
        Resource: '*',
        Condition: { StringNotEquals: { 's3:prefix': '${aws:username}/' } },
      }),
    ];
    // Without aws:username the Deny is invalid and does not apply; with it, it does.
    expect(decide(denyOthers, request('s3:GetObject', 'arn:aws:s3:::b/k', { 's3:prefix': 'x/' }))).toBe(
      'allow',
    );
    expect(
      decide(
        denyOthers,
        request('s3:GetObject', 'arn:aws:s3:::b/k', { 's3:prefix': 'x/', 'aws:username': 'ann' }),
      ),
    ).toBe('explicit-deny');
    const notMine = [
      policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }),
      policy({ Effect: 'Deny', Action: 's3:*', NotResource: 'arn:aws:s3:::home/${aws:username}/*' }),
    ];
    expect(
      decide(notMine, request('s3:GetObject', 'arn:aws:s3:::home/ann/k', { 'aws:username': 'ann' })),
    ).toBe('allow');
    expect(
      decide(notMine, request('s3:GetObject', 'arn:aws:s3:::home/bob/k', { 'aws:username': 'ann' })),
    ).toBe('explicit-deny');
  });

  it("uses a default value when the key is absent: ${aws:userid, 'anonymous'}", () => {
    const withDefault = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: "arn:aws:s3:::bucket/${aws:userid, 'anonymous'}/*",
    });
    expect(decide(withDefault, request('s3:GetObject', 'arn:aws:s3:::bucket/anonymous/k'))).toBe('allow');
    expect(
      decide(withDefault, request('s3:GetObject', 'arn:aws:s3:::bucket/AIDA1/k', { 'aws:userid': 'AIDA1' })),
    ).toBe('allow');
    expect(
      decide(
        withDefault,
        request('s3:GetObject', 'arn:aws:s3:::bucket/anonymous/k', { 'aws:userid': 'AIDA1' }),
      ),
    ).toBe('implicit-deny');
  });

  it('reads ${*}, ${?} and ${$} as the literal characters, never as wildcards', () => {
    const literal = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::bucket/${*}${?}${$}',
    });
    expect(decide(literal, request('s3:GetObject', 'arn:aws:s3:::bucket/*?$'))).toBe('allow');
    expect(decide(literal, request('s3:GetObject', 'arn:aws:s3:::bucket/ab$'))).toBe('implicit-deny');
    const likeStar = policy({
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: '*',
      Condition: { StringLike: { 's3:prefix': 'a${*}' } },
    });
    expect(decide(likeStar, request('s3:ListBucket', '*', { 's3:prefix': 'a*' }))).toBe('allow');
    expect(decide(likeStar, request('s3:ListBucket', '*', { 's3:prefix': 'abc' }))).toBe('implicit-deny');
  });

  it('reads a substituted value literally: a * in a tag value is no wildcard', () => {
    const byTag = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::bucket/${aws:PrincipalTag/team}/*',
    });
    const star = { 'aws:PrincipalTag/team': '*' };
    expect(decide(byTag, request('s3:GetObject', 'arn:aws:s3:::bucket/*/k', star))).toBe('allow');
    expect(decide(byTag, request('s3:GetObject', 'arn:aws:s3:::bucket/other/k', star))).toBe('implicit-deny');
  });

  it('substitutes only in the resource part of an ARN, and only under Version 2012-10-17', () => {
    const inAccount = policy({
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: 'arn:aws:sqs:us-east-2:${aws:PrincipalAccount}:q',
    });
    expect(
      decide(
        inAccount,
        request('sqs:SendMessage', 'arn:aws:sqs:us-east-2:123:q', { 'aws:PrincipalAccount': '123' }),
      ),
    ).toBe('implicit-deny');
    const oldVersion = parsePolicyDocument({
      Version: '2008-10-17',
      Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}' },
    });
    expect(decide(oldVersion, request('s3:GetObject', 'arn:aws:s3:::b/ann', { 'aws:username': 'ann' }))).toBe(
      'implicit-deny',
    );
    expect(
      decide(
        oldVersion,
        request('s3:GetObject', 'arn:aws:s3:::b/${aws:username}', { 'aws:username': 'ann' }),
      ),
    ).toBe('allow');
  });

  it('refuses a multivalued key as a variable', () => {
    const byKeys = policy({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b/${aws:TagKeys}',
    });
    expect(decide(byKeys, request('s3:GetObject', 'arn:aws:s3:::b/x', { 'aws:TagKeys': ['x', 'y'] }))).toBe(
      'implicit-deny',
    );
  });

  it('takes variables in ArnLike values: a role may act on its own ARN only', () => {
    const self = policy({
      Effect: 'Allow',
      Action: 'iam:GetRole',
      Resource: '*',
      Condition: { ArnLike: { 'aws:SourceArn': '${aws:PrincipalArn}' } },
    });
    const role = 'arn:aws:iam::123456789012:role/app';
    expect(
      decide(self, request('iam:GetRole', '*', { 'aws:PrincipalArn': role, 'aws:SourceArn': role })),
    ).toBe('allow');
    expect(
      decide(self, request('iam:GetRole', '*', { 'aws:PrincipalArn': role, 'aws:SourceArn': `${role}2` })),
    ).toBe('implicit-deny');
  });
});

describe('parsing refuses what the evaluator does not implement', () => {
  it.each([
    [
      'a date operator',
      {
        Effect: 'Allow',
        Action: 'a:b',
        Resource: '*',
        Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } },
      },
    ],
    [
      'an IP operator',
      {
        Effect: 'Allow',
        Action: 'a:b',
        Resource: '*',
        Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
      },
    ],
    [
      'NullIfExists',
      { Effect: 'Allow', Action: 'a:b', Resource: '*', Condition: { NullIfExists: { k: 'true' } } },
    ],
    [
      'a Null value that is not true/false',
      { Effect: 'Allow', Action: 'a:b', Resource: '*', Condition: { Null: { k: 'yes' } } },
    ],
    ['a Principal', { Effect: 'Allow', Principal: '*', Action: 'a:b', Resource: '*' }],
    ['both Action and NotAction', { Effect: 'Allow', Action: 'a:b', NotAction: 'a:c', Resource: '*' }],
    ['no Resource', { Effect: 'Allow', Action: 'a:b' }],
    ['an unknown Effect', { Effect: 'Maybe', Action: 'a:b', Resource: '*' }],
  ])('%s', (_what, statement) => {
    expect(() => parsePolicyDocument({ Version: '2012-10-17', Statement: [statement] })).toThrow(
      UnsupportedPolicyError,
    );
  });

  it('accepts a single statement object and JSON booleans and numbers as values', () => {
    const parsed = parsePolicyDocument({
      Version: '2012-10-17',
      Statement: {
        Effect: 'Allow',
        Action: 'a:b',
        Resource: '*',
        Condition: { Bool: { k: true }, NumericEquals: { n: 3 } },
      },
    });
    expect(parsed.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'a:b',
        Resource: '*',
        Condition: { Bool: { k: 'true' }, NumericEquals: { n: '3' } },
      },
    ]);
  });
});
