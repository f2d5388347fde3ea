/**
 * What every local stand-in asks the IAM stand-in before it answers a call, and how it words a
 * refusal. A stand-in knows the caller only by the access key id in the request's SigV4
 * `Authorization` header, as AWS does; which function (role) holds that key is the IAM
 * stand-in's business (`Authorize`).
 */

/** One authorisation question: may the holder of `accessKeyId` do `action` on `resource`? */
export interface AccessRequest {
  /** From the SigV4 credential scope; undefined when the request was not signed. */
  readonly accessKeyId: string | undefined;
  /** `service:Action`, e.g. `secretsmanager:GetSecretValue`, `rds-data:ExecuteStatement`. */
  readonly action: string;
  /** The ARN the action is on, or `*` for actions that take no resource (e.g. ListSecrets). */
  readonly resource: string;
  /**
   * The request context's condition keys and their values, e.g.
   * `{ 'secretsmanager:ResourceTag/TenantId': 't_…', 'aws:ResourceTag/TenantId': 't_…' }`.
   * A key that has no value in this request is absent (matters for `Null` conditions).
   */
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

export type AccessDecision = { readonly allowed: true } | AccessDenial | ExpiredCredentials;

/** The caller's policies do not allow the request. */
export interface AccessDenial {
  readonly allowed: false;
  readonly expired?: undefined;
  /** The calling role's session ARN, as AWS names it in the message. */
  readonly principalArn: string;
  /** An explicit Deny matched (else no Allow did: an implicit deny). */
  readonly explicit: boolean;
}

/**
 * The request is signed with a temporary key whose session has expired: AWS refuses it before any
 * policy is read, with `ExpiredTokenException` ("The security token included in the request is
 * expired", HTTP 403 in the common errors of the JSON services; `ExpiredToken` in STS and S3).
 * https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html
 * A stand-in must answer it with its service's expired-token error, never as a denial.
 */
export interface ExpiredCredentials {
  readonly allowed: false;
  readonly expired: true;
  /** The expired session's ARN. */
  readonly principalArn: string;
}

/** AWS's wording for a request signed with an expired session's key. */
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

/** The IAM stand-in's answer to one question; a stand-in without one allows everything. */
export type Authorize = (request: AccessRequest) => AccessDecision | Promise<AccessDecision>;

export const allowAll: Authorize = () => ({ allowed: true });

/**
 * The message AWS gives for a denied identity-based request, e.g.
 * `User: arn:aws:sts::000000000000:assumed-role/Role/fn is not authorized to perform:
 * secretsmanager:GetSecretValue on resource: arn:… because no identity-based policy allows the
 * secretsmanager:GetSecretValue action`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
 * (implicit: "because no identity-based policy allows the <action> action"; explicit: "with an
 * explicit deny in an identity-based policy"). For expired credentials, AWS's expired-token
 * message: the stand-in must then also answer its service's expired-token error code
 * (`refusalOf` picks it).
 */
export function accessDeniedMessage(
  request: Pick<AccessRequest, 'action' | 'resource'>,
  decision: AccessDenial | ExpiredCredentials,
): string {
  if (decision.expired) return EXPIRED_TOKEN_MESSAGE;
  const why = decision.explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${request.action} action`;
  return `User: ${decision.principalArn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`;
}

/** A service's two refusals: its access-denied error and its expired-token error. */
export interface RefusalCodes<Code extends string> {
  readonly denied: { readonly code: Code; readonly status: number };
  readonly expired: { readonly code: Code; readonly status: number };
}

/** The code, HTTP status and message a stand-in answers a refused request with. */
export function refusalOf<Code extends string>(
  request: Pick<AccessRequest, 'action' | 'resource'>,
  decision: AccessDenial | ExpiredCredentials,
  codes: RefusalCodes<Code>,
): { readonly code: Code; readonly status: number; readonly message: string } {
  const { code, status } = decision.expired ? codes.expired : codes.denied;
  return { code, status, message: accessDeniedMessage(request, decision) };
}

/**
 * The access key id of a SigV4-signed request: `Authorization: AWS4-HMAC-SHA256
 * Credential=<key id>/<date>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=…`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 */
export function accessKeyIdOf(authorization: string | readonly string[] | undefined): string | undefined {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  if (typeof header !== 'string') return undefined;
  return /Credential=([^/,\s]+)\//.exec(header)?.[1];
}

/** The local platform's account and region: every local ARN is in them. */
export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
