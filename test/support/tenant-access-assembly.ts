// biome-ignore-all lint/suspicious/noTemplateCurlyInString: IAM policy variables are written ${…} inside plain strings.
import type { CloudAssemblyTemplates } from '#infra/local/iam/template-policies';

/*
 * A hand-made assembly with the tenant-access role of issue 12 (the contract's shape, written as
 * CDK synthesizes it: the account root as `Fn::Join` of the partition and account id), a function
 * allowed to assume it, one that is not, and a role that trusts a function's role by its ARN.
 */

export const ACCOUNT = '000000000000';
export const STAGE = 'local';
export const TENANT_ACCESS_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/TenantAccessRole`;
export const DIRECT_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/DirectTrustRole`;
/** The entry of the function whose role may assume the tenant-access role. */
export const ROWS_ENTRY = 'tenants/get-rows';
/** The entry of a function with no sts grant. */
export const ME_ENTRY = 'me/get-me';
export const tenantSecretName = (tenantId: string) => `tn/${STAGE}/${tenantId}`;

const lambdaTrust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const accountRoot = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']],
};

export const tenantAccessAssembly: CloudAssemblyTemplates = {
  stacks: [
    {
      name: 'Provisioning',
      template: {
        Resources: {
          TenantAccessRole: {
            Type: 'AWS::IAM::Role',
            Properties: {
              Tags: [{ Key: 'tenantry:role', Value: 'tenant-access' }],
              AssumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Principal: { AWS: accountRoot }, Action: 'sts:AssumeRole' },
                  {
                    Effect: 'Allow',
                    Principal: { AWS: accountRoot },
                    Action: 'sts:TagSession',
                    Condition: { StringLike: { 'aws:RequestTag/TenantId': 't_*' } },
                  },
                ],
              },
              Policies: [
                {
                  PolicyName: 'TenantSecrets',
                  PolicyDocument: {
                    Version: '2012-10-17',
                    Statement: [
                      {
                        Effect: 'Allow',
                        Action: 'secretsmanager:GetSecretValue',
                        Resource: {
                          'Fn::Sub':
                            'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:tn/local/*',
                        },
                        Condition: {
                          StringEquals: {
                            'secretsmanager:ResourceTag/tenantry:tenant-id': '${aws:PrincipalTag/TenantId}',
                          },
                        },
                      },
                    ],
                  },
                },
              ],
            },
          },
          DirectTrustRole: {
            Type: 'AWS::IAM::Role',
            Properties: {
              MaxSessionDuration: 7200,
              AssumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: { AWS: { 'Fn::GetAtt': ['MeRole', 'Arn'] } },
                    Action: ['sts:AssumeRole', 'sts:TagSession'],
                  },
                ],
              },
              // Its sessions may go on to the tenant-access role (a role chain).
              Policies: [
                {
                  PolicyName: 'Chain',
                  PolicyDocument: {
                    Version: '2012-10-17',
                    Statement: [
                      {
                        Effect: 'Allow',
                        Action: ['sts:AssumeRole', 'sts:TagSession'],
                        Resource: { 'Fn::GetAtt': ['TenantAccessRole', 'Arn'] },
                      },
                    ],
                  },
                },
              ],
            },
          },
          RowsRole: {
            Type: 'AWS::IAM::Role',
            Properties: {
              AssumeRolePolicyDocument: lambdaTrust,
              Policies: [
                {
                  PolicyName: 'AssumeTenantAccess',
                  PolicyDocument: {
                    Version: '2012-10-17',
                    Statement: [
                      {
                        Effect: 'Allow',
                        Action: ['sts:AssumeRole', 'sts:TagSession'],
                        Resource: { 'Fn::GetAtt': ['TenantAccessRole', 'Arn'] },
                      },
                    ],
                  },
                },
              ],
            },
          },
          MeRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: lambdaTrust } },
          RowsFunction: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              FunctionName: 'tenantry-local-get-rows',
              Role: { 'Fn::GetAtt': ['RowsRole', 'Arn'] },
              Tags: [{ Key: 'tenantry:function', Value: ROWS_ENTRY }],
            },
          },
          MeFunction: {
            Type: 'AWS::Lambda::Function',
            Properties: {
              FunctionName: 'tenantry-local-get-me',
              Role: { 'Fn::GetAtt': ['MeRole', 'Arn'] },
              Tags: [{ Key: 'tenantry:function', Value: ME_ENTRY }],
            },
          },
        },
      },
    },
  ],
};
