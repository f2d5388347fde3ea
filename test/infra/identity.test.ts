import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app';

describe('IdentityStack', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(
      buildApp({ stage: 'dev', bundle: false, cloudFormationValidation: false }).identity,
    );
  });

  it('signs in by email with a strong password policy, optional TOTP MFA and self sign-up', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      UsernameAttributes: ['email'],
      AutoVerifiedAttributes: ['email'],
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      MfaConfiguration: 'OPTIONAL',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolTier: 'ESSENTIALS',
      Policies: {
        PasswordPolicy: {
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        },
      },
    });
  });

  it('has the mutable custom:tenant_name attribute used to register a tenant at sign-up', () => {
    const [pool] = Object.values(template.findResources('AWS::Cognito::UserPool')) as {
      Properties: { Schema: { Name: string; AttributeDataType: string; Mutable: boolean }[] };
    }[];
    expect(pool?.Properties.Schema).toContainEqual(
      expect.objectContaining({ Name: 'tenant_name', AttributeDataType: 'String', Mutable: true }),
    );
  });

  it('has an app client without a secret that allows only the password and refresh flows', () => {
    // USER_PASSWORD_AUTH is what the CLI (infra/local/client.ts) and the tests sign in with, and
    // REFRESH_TOKEN_AUTH renews tokens; SRP, custom and admin flows are used by nothing here.
    const [client] = Object.values(template.findResources('AWS::Cognito::UserPoolClient')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(client?.Properties.GenerateSecret).toBe(false);
    expect(client?.Properties.PreventUserExistenceErrors).toBe('ENABLED');
    expect([...((client?.Properties.ExplicitAuthFlows as string[] | undefined) ?? [])].sort()).toEqual([
      'ALLOW_REFRESH_TOKEN_AUTH',
      'ALLOW_USER_PASSWORD_AUTH',
    ]);
  });

  it('turns the app client’s OAuth features off: no OAuth flows or scopes, no placeholder callback URL', () => {
    // The app signs in through the Cognito API (USER_PASSWORD_AUTH, SRP, refresh tokens), never the
    // hosted UI or OAuth endpoints. With AllowedOAuthFlowsUserPoolClient false only SDK-based API
    // sign-in is permitted, and callback URLs, OAuth flows and scopes cannot be set:
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-userpoolclient.html
    const clients = Object.values(template.findResources('AWS::Cognito::UserPoolClient')) as {
      Properties: Record<string, unknown>;
    }[];
    expect(clients).toHaveLength(1);
    const client = clients[0]?.Properties ?? {};
    expect(client.AllowedOAuthFlowsUserPoolClient).toBe(false);
    for (const property of ['AllowedOAuthFlows', 'AllowedOAuthScopes', 'CallbackURLs', 'LogoutURLs']) {
      expect(client[property], property).toBeUndefined();
    }
    expect(JSON.stringify(template.toJSON())).not.toContain('example.com');
  });

  it('has the platform-admin and finance groups', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (group) => (group as { Properties: { GroupName: string } }).Properties.GroupName,
    );
    expect(groups.sort()).toEqual(['finance', 'platform-admin']);
  });

  it('wires post-confirmation and V2 pre-token-generation triggers to their functions', () => {
    const [pool] = Object.values(template.findResources('AWS::Cognito::UserPool')) as {
      Properties: { LambdaConfig: Record<string, unknown> };
    }[];
    const config = pool?.Properties.LambdaConfig ?? {};
    expect(JSON.stringify(config.PostConfirmation)).toContain('PostConfirmationFunction');
    expect(config.PreTokenGenerationConfig).toMatchObject({ LambdaVersion: 'V2_0' });
    expect(JSON.stringify(config.PreTokenGenerationConfig)).toContain('PreTokenGenerationFunction');
  });
});
