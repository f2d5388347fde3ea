/**
 * How AWS authorises Cognito user pool calls, for the IAM gate in front of cognito-local.
 *
 * The user pools API mixes three authorisation models: IAM-authorised operations (SigV4-signed,
 * judged by the caller's IAM policies), public ones (no authorisation: SignUp, InitiateAuth, …)
 * and token-authorised ones (the user's access or session token in the body: GetUser,
 * RespondToAuthChallenge, …). "You can only assign permissions in IAM policies for
 * IAM-authenticated management operations and IAM-authenticated user operations": the other two
 * pass the gate untouched, signed or not. Sources:
 * - the developer guide's lists, "Understanding API, OIDC, and managed login pages
 *   authentication" (https://docs.aws.amazon.com/cognito/latest/developerguide/authentication-flows-public-server-side.html#user-pools-API-operations,
 *   formerly https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html;
 *   text in awsdocs/amazon-cognito-developer-guide, doc_source/user-pools-API-operations.md);
 * - for operations added since, the note on each API Reference page ("Amazon Cognito evaluates
 *   Identity and Access Management (IAM) policies in requests for this API operation" /
 *   "Amazon Cognito doesn't evaluate …"), e.g.
 *   https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_GlobalSignOut.html;
 *   the same notes are in @aws-sdk/client-cognito-identity-provider's documentation, and
 *   test/unit/iam-gate-rules.test.ts checks these lists against every command of the installed
 *   SDK, so an operation a new SDK brings is classified on purpose;
 * - the few pages with no note are classified by their kind, said where they are listed.
 *
 * Action `cognito-idp:<Operation>`; resource the user pool,
 * `arn:aws:cognito-idp:<region>:<account>:userpool/<UserPoolId>` ("not authorized to perform:
 * cognito-idp:ListUsers on resource: arn:aws:cognito-idp:us-west-2:…:userpool/…",
 * https://github.com/aws/chalice/issues/529), the `ResourceArn` for the tagging operations, and
 * `*` for those that take no pool ("cognito-idp:CreateUserPool on resource: *",
 * https://github.com/lgallard/terraform-aws-cognito-user-pool/issues/116). Resource types per action:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncognitouserpools.html
 * Tag condition keys (`aws:ResourceTag/…`, `aws:RequestTag/…`) are not in the request context.
 *
 * A denial is HTTP 400 AccessDeniedException (status as the SDK reports it in the two issues
 * above), body `{"__type": "AccessDeniedException", "Message": "User: … is not authorized …"}`
 * as Cognito's identity pools answer it
 * (https://github.com/aws-samples/resource-control-policy-examples/issues/18); the SDK's model
 * declares AccessDeniedException for user pools, so it raises that class. Request validation is
 * InvalidParameterException, "1 validation error detected: Value '…' at 'userPoolId' failed to
 * satisfy constraint: Member must satisfy regular expression pattern: [\w-]+_[0-9a-zA-Z]+"
 * (https://github.com/anomalyco/guide/issues/127).
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../iam/access.ts';
import { type ArnScope, arnsIn } from '../iam/physical-names.ts';
import {
  errorAnswer,
  type IamQuestion,
  memberReader,
  type NamePattern,
  type OperationRule,
  type ServiceRules,
} from './iam-gate.ts';

/** Judged by IAM: `cognito-idp:<Operation>` on the pool (or as below). */
export const IAM_AUTHORIZED_OPERATIONS = [
  // The developer guide: "IAM-authenticated management operations".
  'AddCustomAttributes',
  'CreateGroup',
  'CreateIdentityProvider',
  'CreateResourceServer',
  'CreateUserImportJob',
  'CreateUserPool',
  'CreateUserPoolClient',
  'CreateUserPoolDomain',
  'DeleteGroup',
  'DeleteIdentityProvider',
  'DeleteResourceServer',
  'DeleteUserPool',
  'DeleteUserPoolClient',
  'DeleteUserPoolDomain',
  'DescribeIdentityProvider',
  'DescribeResourceServer',
  'DescribeRiskConfiguration',
  'DescribeUserImportJob',
  'DescribeUserPool',
  'DescribeUserPoolClient',
  'DescribeUserPoolDomain',
  'GetCSVHeader',
  'GetGroup',
  'GetIdentityProviderByIdentifier',
  'GetSigningCertificate',
  'GetUICustomization',
  'GetUserPoolMfaConfig',
  'ListGroups',
  'ListIdentityProviders',
  'ListResourceServers',
  'ListTagsForResource',
  'ListUserImportJobs',
  'ListUserPoolClients',
  'ListUserPools',
  'ListUsers',
  'ListUsersInGroup',
  'SetRiskConfiguration',
  'SetUICustomization',
  'SetUserPoolMfaConfig',
  'StartUserImportJob',
  'StopUserImportJob',
  'TagResource',
  'UntagResource',
  'UpdateGroup',
  'UpdateIdentityProvider',
  'UpdateResourceServer',
  'UpdateUserPool',
  'UpdateUserPoolClient',
  'UpdateUserPoolDomain',
  // The developer guide: "IAM-authenticated user operations".
  'AdminAddUserToGroup',
  'AdminConfirmSignUp',
  'AdminCreateUser',
  'AdminDeleteUser',
  'AdminDeleteUserAttributes',
  'AdminDisableProviderForUser',
  'AdminDisableUser',
  'AdminEnableUser',
  'AdminForgetDevice',
  'AdminGetDevice',
  'AdminGetUser',
  'AdminInitiateAuth',
  'AdminLinkProviderForUser',
  'AdminListDevices',
  'AdminListGroupsForUser',
  'AdminListUserAuthEvents',
  'AdminRemoveUserFromGroup',
  'AdminResetUserPassword',
  'AdminRespondToAuthChallenge',
  'AdminSetUserMFAPreference',
  'AdminSetUserPassword',
  'AdminSetUserSettings',
  'AdminUpdateAuthEventFeedback',
  'AdminUpdateDeviceStatus',
  'AdminUpdateUserAttributes',
  'AdminUserGlobalSignOut',
  // Added since; their API Reference pages say Cognito evaluates IAM policies.
  'AdminDeleteSoftwareToken',
  'AdminGetUserAuthFactors',
  'CreateManagedLoginBranding',
  'CreateTerms',
  'CreateUserPoolReplica',
  'DeleteManagedLoginBranding',
  'DeleteTerms',
  'DeleteUserPoolReplica',
  'DescribeTerms',
  'DescribeTermsByClient',
  'GetLogDeliveryConfiguration',
  'GetProvisionedLimit',
  'ListTerms',
  'ListUserPoolReplicas',
  'UpdateManagedLoginBranding',
  'UpdateProvisionedLimit',
  'UpdateTerms',
  'UpdateUserPoolReplica',
  // Added since, no note on their pages: administration of a pool (its `UserPoolId` in the
  // request, no user token), like their documented siblings (the Create/Update/Delete of the
  // same resource, GetLogDeliveryConfiguration, the Admin* operations).
  'AddUserPoolClientSecret',
  'AdminListUserSessions',
  'AdminRevokeUserSession',
  'DeleteUserPoolClientSecret',
  'DescribeManagedLoginBranding',
  'DescribeManagedLoginBrandingByClient',
  'GetUserPoolClientSessionConfiguration',
  'GetUserPoolSessionConfiguration',
  'ListUserPoolClientSecrets',
  'SetLogDeliveryConfiguration',
  'SetUserPoolClientSessionConfiguration',
  'SetUserPoolSessionConfiguration',
] as const;

/** Not judged by IAM in AWS (public or token-authorised): forwarded without a question. */
export const NOT_IAM_AUTHORIZED_OPERATIONS = [
  // The developer guide: "Unauthenticated user operations" (public).
  'SignUp',
  'ConfirmSignUp',
  'ResendConfirmationCode',
  'ForgotPassword',
  'ConfirmForgotPassword',
  'InitiateAuth',
  // The developer guide: "Token-authenticated user operations" (access or session token).
  'RespondToAuthChallenge',
  'ChangePassword',
  'GetUser',
  'UpdateUserAttributes',
  'DeleteUserAttributes',
  'DeleteUser',
  'ConfirmDevice',
  'ForgetDevice',
  'GetDevice',
  'ListDevices',
  'UpdateDeviceStatus',
  'GetUserAttributeVerificationCode',
  'VerifyUserAttribute',
  'SetUserSettings',
  'SetUserMFAPreference',
  'GlobalSignOut',
  'AssociateSoftwareToken',
  'VerifySoftwareToken',
  'RevokeToken',
  // Added since; their API Reference pages say Cognito does not evaluate IAM policies.
  'DeleteWebAuthnCredential',
  'GetClientToken',
  'GetUserAuthFactors',
  'ListWebAuthnCredentials',
  'UpdateAuthEventFeedback',
  // Added since, no note on their pages: authorised by the user's access token ("Authorize this
  // action with a signed-in user's access token"), or by the refresh token and client.
  'CompleteWebAuthnRegistration',
  'StartWebAuthnRegistration',
  'ListUserSessions',
  'RevokeUserSession',
  'GetTokensFromRefreshToken',
] as const;

/** IAM-authorised operations that take no pool: on `*`. */
const ON_ACCOUNT: ReadonlySet<string> = new Set([
  'CreateUserPool',
  'ListUserPools',
  'DescribeUserPoolDomain',
  'GetProvisionedLimit',
  'UpdateProvisionedLimit',
]);
/** On the `ResourceArn` given (a user pool's ARN). */
const ON_RESOURCE_ARN: ReadonlySet<string> = new Set(['TagResource', 'UntagResource', 'ListTagsForResource']);

/** https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UserPoolType.html#CognitoUserPools-Type-UserPoolType-Id */
const USER_POOL_ID: NamePattern = { test: /^[\w-]+_[0-9a-zA-Z]+$/, source: '[\\w-]+_[0-9a-zA-Z]+' };

const errors = {
  accessDenied: errorAnswer(400, 'AccessDeniedException', 'Message'),
  // https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/CommonErrors.html
  expiredToken: errorAnswer(403, 'ExpiredTokenException', 'message'),
  unknownOperation: errorAnswer(400, 'UnknownOperationException'),
  serialization: errorAnswer(400, 'SerializationException'),
  validation: errorAnswer(400, 'InvalidParameterException'),
  internal: errorAnswer(500, 'InternalErrorException'),
};

/** The Cognito user pool rules of the IAM gate, for ARNs in `scope` (default: the local account and region). */
export function cognitoUserPoolRules(
  scope: ArnScope = { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION },
): ServiceRules {
  const arn = arnsIn(scope);
  const read = memberReader(errors);
  const rules = new Map<string, OperationRule>();
  for (const operation of NOT_IAM_AUTHORIZED_OPERATIONS) rules.set(operation, 'not-iam');
  for (const operation of IAM_AUTHORIZED_OPERATIONS) {
    const action = `cognito-idp:${operation}`;
    if (ON_ACCOUNT.has(operation)) {
      const questions: readonly IamQuestion[] = [{ action, resource: '*' }];
      rules.set(operation, () => questions);
    } else if (ON_RESOURCE_ARN.has(operation)) {
      rules.set(operation, (input) => [
        { action, resource: read.string(read.body(input).ResourceArn, 'resourceArn') },
      ]);
    } else {
      rules.set(operation, (input) => [
        {
          action,
          resource: arn.userPool(read.string(read.body(input).UserPoolId, 'userPoolId', USER_POOL_ID)),
        },
      ]);
    }
  }
  return {
    service: 'Cognito user pools',
    targetPrefix: 'AWSCognitoIdentityProviderService',
    contentType: 'application/x-amz-json-1.1',
    operation: (name) => rules.get(name),
    errors,
  };
}
