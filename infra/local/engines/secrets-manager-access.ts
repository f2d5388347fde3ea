/**
 * The IAM question the Secrets Manager stand-in asks before every operation, with the request
 * context AWS builds for it. Condition keys per action, from the Service Authorization Reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 * - every action on a secret (resource type `Secret`): `secretsmanager:ResourceTag/<key>` and
 *   `aws:ResourceTag/<key>` for the secret's tags, `secretsmanager:SecretId` (the secret's ARN),
 *   `secretsmanager:SecretPrimaryRegion`;
 * - CreateSecret: `secretsmanager:Name`, `secretsmanager:Description`, `secretsmanager:KmsKeyId`,
 *   and `aws:RequestTag/<key>` + `aws:TagKeys` for the tags in the request (TagResource too;
 *   UntagResource has `aws:TagKeys` for the keys it removes);
 * - DeleteSecret: `secretsmanager:RecoveryWindowInDays`, `secretsmanager:ForceDeleteWithoutRecovery`;
 * - GetSecretValue: `secretsmanager:VersionId`, `secretsmanager:VersionStage` — only when the request
 *   carries them (a policy conditioned on VersionStage denies a call that relies on the AWSCURRENT
 *   default: https://github.com/aws/aws-cli/issues/5031);
 * - ListSecrets: no resource (`*`) and no condition keys.
 *
 * A key with no value in the request is absent from the context, so a condition on it does not
 * match ("If the key that you specify in a policy condition is not present in the request
 * context, the values do not match"):
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
 */
import { type AccessRequest, type Authorize, refusalOf } from '../iam/access.ts';
import type { SecretsState, SecretTag, StoredSecret } from './secrets-manager-state.ts';
import { ServiceError } from './secrets-manager-wire.ts';

export type Context = Record<string, string | readonly string[]>;

export interface OperationContext {
  readonly state: SecretsState;
  readonly authorize: Authorize;
  readonly accessKeyId: string | undefined;
  readonly region: string;
  readonly now: () => Date;
}

/**
 * What an operation is authorised against. For a secret that exists: its full ARN and its tags.
 * For one that does not: the ARN the request names and no resource tags at all — IAM decides
 * before Secrets Manager looks the secret up, so a policy that needs a resource tag denies a
 * request for a missing secret with AccessDeniedException, not ResourceNotFoundException. AWS
 * documents the two outcomes for an id that matches no secret: "you receive either a
 * ResourceNotFoundException or an AccessDeniedException error, depending on your permissions"
 * (SecretId of https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetResourcePolicy.html);
 * seen from AWS for a missing secret in https://github.com/mongodb/awscdk-resources-mongodbatlas/issues/207
 * (AccessDeniedException, handler NotFound).
 */
export interface Target {
  readonly resource: string;
  /** How the request named the secret: AWS's denial message repeats it (name, or ARN as given). */
  readonly named: string;
  readonly secret: StoredSecret | undefined;
}

export function targetOf(ctx: OperationContext, secretId: string): Target {
  const secret = ctx.state.find(secretId);
  return { resource: secret?.arn ?? ctx.state.requestedArn(secretId), named: secretId, secret };
}

/**
 * Asks IAM; a denial becomes AccessDeniedException with IAM's wording, HTTP 400
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html), and an
 * expired session's key ExpiredTokenException, HTTP 403 ("The security token included in the
 * request is expired", the common errors of the same page).
 */
export async function demand(
  ctx: OperationContext,
  action: string,
  target: Target,
  extra: Context = {},
): Promise<void> {
  const request: AccessRequest = {
    accessKeyId: ctx.accessKeyId,
    action: `secretsmanager:${action}`,
    resource: target.resource,
    context: { ...resourceContext(ctx, target.secret), ...extra },
  };
  const decision = await ctx.authorize(request);
  if (decision.allowed) return;
  // AWS's denials name the resource as the request did: "… secretsmanager:GetSecretValue on
  // resource: cfn/atlas/profile/development because no identity-based policy allows …"
  // (https://github.com/mongodb/awscdk-resources-mongodbatlas/issues/207), "… UpdateSecret on
  // resource: airbyte_workspace_…" (https://github.com/airbytehq/airbyte/issues/55670), and the
  // full ARN when the request gave one (https://github.com/binbashar/le-tf-infra-aws/pull/874).
  const refusal = refusalOf({ action: request.action, resource: target.named }, decision, {
    denied: { code: 'AccessDeniedException', status: 400 },
    expired: { code: 'ExpiredTokenException', status: 403 },
  });
  throw new ServiceError(refusal.code, refusal.message, refusal.status);
}

/** `aws:RequestTag/<key>` for each tag and `aws:TagKeys` for the list of keys. */
export function requestTagContext(tags: readonly SecretTag[]): Context {
  if (tags.length === 0) return {};
  const context: Record<string, string | readonly string[]> = { 'aws:TagKeys': tags.map((tag) => tag.Key) };
  for (const tag of tags) context[`aws:RequestTag/${tag.Key}`] = tag.Value;
  return context;
}

function resourceContext(ctx: OperationContext, secret: StoredSecret | undefined): Context {
  if (secret === undefined) return {};
  const context: Record<string, string | readonly string[]> = {
    'secretsmanager:SecretId': secret.arn,
    'secretsmanager:SecretPrimaryRegion': ctx.region,
  };
  for (const tag of secret.tags) {
    context[`secretsmanager:ResourceTag/${tag.Key}`] = tag.Value;
    context[`aws:ResourceTag/${tag.Key}`] = tag.Value;
  }
  return context;
}
