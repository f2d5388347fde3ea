/**
 * How STS decides an `AssumeRole` call within one account, for the IAM stand-in: the request's
 * checks (as STS validates its input), the role's trust policy, the caller's identity policies,
 * and the session that results. The authorizer (template-authorizer.ts) keeps the sessions; this
 * file holds the rules.
 *
 * API: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * Session tags: https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 */
import { EXPIRED_TOKEN_MESSAGE } from './access.ts';
import { requestContext } from './policy-context.ts';
import type { PolicyDocument, TrustPolicyDocument, TrustStatement } from './policy-document.ts';
import { evaluatePolicies, type PolicyDecision, statementApplies } from './policy-evaluator.ts';

/** One session tag, as `Tags.member.N` carries it. */
export interface SessionTag {
  readonly Key: string;
  readonly Value: string;
}

export interface AssumeRoleRequest {
  /** The access key id the call is signed with; undefined when unsigned (an administrator locally). */
  readonly callerAccessKeyId: string | undefined;
  readonly roleArn: string;
  readonly roleSessionName: string;
  readonly tags?: readonly SessionTag[];
  /** @default 3600 */
  readonly durationSeconds?: number;
  readonly transitiveTagKeys?: readonly string[];
}

/** What STS answers instead of credentials: the code, HTTP status and message of its error. */
export class StsError extends Error {
  constructor(
    readonly code: 'AccessDenied' | 'ValidationError' | 'ExpiredToken',
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

/**
 * The default and the bounds of DurationSeconds: "The value specified can range from 900 seconds
 * (15 minutes) up to the maximum session duration set for the role … By default, the value is set
 * to 3600 seconds", and role chaining "limits your … AWS API role session to a maximum of one
 * hour" (API_AssumeRole, `DurationSeconds`).
 */
export const DEFAULT_DURATION_SECONDS = 3600;
export const ROLE_CHAINING_LIMIT_SECONDS = 3600;

/**
 * STS's request validation ("1 validation error detected: Value '…' at 'roleSessionName' failed to
 * satisfy constraint: Member must …", members in lowerCamel case, several joined with "; "), with
 * the constraints of the API reference: RoleArn 20–2048 characters, RoleSessionName 2–64 of
 * `[\w+=,.@-]*`, DurationSeconds 900–43200, at most 50 Tags and 50 TransitiveTagKeys, a tag key
 * 1–128 of `[\p{L}\p{Z}\p{N}_.:/=+\-@]+` and a value 0–256 of `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
 * (the Tag type: https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html; "You can pass
 * up to 50 session tags. The plain text session tag keys can't exceed 128 characters … values
 * can't exceed 256 characters").
 */
export function validateAssumeRole(request: AssumeRoleRequest): void {
  const problems: string[] = [];
  const check = (ok: boolean, member: string, value: unknown, constraint: string) => {
    if (!ok)
      problems.push(
        `Value '${String(value)}' at '${member}' failed to satisfy constraint: Member must ${constraint}`,
      );
  };
  const length = (member: string, value: string, min: number, max: number) => {
    check(value.length >= min, member, value, `have length greater than or equal to ${min}`);
    check(value.length <= max, member, value, `have length less than or equal to ${max}`);
  };
  length('roleArn', request.roleArn, 20, 2048);
  length('roleSessionName', request.roleSessionName, 2, 64);
  check(
    /^[\w+=,.@-]*$/.test(request.roleSessionName),
    'roleSessionName',
    request.roleSessionName,
    'satisfy regular expression pattern: [\\w+=,.@-]*',
  );
  const duration = request.durationSeconds;
  if (duration !== undefined) {
    check(Number.isInteger(duration), 'durationSeconds', duration, 'be an integer');
    check(duration >= 900, 'durationSeconds', duration, 'have value greater than or equal to 900');
    check(duration <= 43200, 'durationSeconds', duration, 'have value less than or equal to 43200');
  }
  const tags = request.tags ?? [];
  check(
    tags.length <= 50,
    'tags',
    `[${tags.map((tag) => tag.Key).join(', ')}]`,
    'have length less than or equal to 50',
  );
  for (const [index, tag] of tags.entries()) {
    const at = `tags.${index + 1}.member`;
    length(`${at}.key`, tag.Key, 1, 128);
    check(
      TAG_TEXT.test(tag.Key),
      `${at}.key`,
      tag.Key,
      'satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
    );
    length(`${at}.value`, tag.Value, 0, 256);
    check(
      tag.Value === '' || TAG_TEXT.test(tag.Value),
      `${at}.value`,
      tag.Value,
      'satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*',
    );
  }
  const transitive = request.transitiveTagKeys ?? [];
  check(
    transitive.length <= 50,
    'transitiveTagKeys',
    `[${transitive.join(', ')}]`,
    'have length less than or equal to 50',
  );
  for (const [index, key] of transitive.entries())
    length(`transitiveTagKeys.${index + 1}.member`, key, 1, 128);
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
    throw new StsError('ValidationError', 400, `${count} detected: ${problems.join('; ')}`);
  }
  // Tag keys are unique regardless of case ("New session tags override existing … tags with the
  // same tag key, regardless of case"): two that differ only in case cannot both be passed. STS's
  // wording for it is not documented; ours names the key.
  const seen = new Set<string>();
  for (const tag of tags) {
    const key = tag.Key.toLowerCase();
    if (seen.has(key)) throw new StsError('ValidationError', 400, `Duplicate tag keys found: ${tag.Key}`);
    seen.add(key);
  }
}

const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;

/** Who calls `AssumeRole`, as the authorizer knows the key. */
export interface Caller {
  /** The principal's ARN: a role session's, or the local administrator's. */
  readonly arn: string;
  /** The role the session is of; undefined for the administrator (not a role session). */
  readonly roleArn: string | undefined;
  /** Its identity-based policies; undefined for the administrator, who may do everything. */
  readonly policies: readonly PolicyDocument[] | undefined;
  /** `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:PrincipalTag/*`. */
  readonly principalContext: Readonly<Record<string, string>>;
  /** Transitive session tags the caller's session carries into a chained session. */
  readonly transitiveTags: Readonly<Record<string, string>>;
}

/** The role to assume, as the templates describe it. */
export interface AssumableRole {
  readonly arn: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly trustPolicy: TrustPolicyDocument;
  readonly maxSessionDuration: number;
}

/** The request context of the call: what the trust policy and the caller's policies see. */
export function assumeRoleContext(
  request: AssumeRoleRequest,
  caller: Caller,
  role: AssumableRole,
): Record<string, string | readonly string[]> {
  const context: Record<string, string | readonly string[]> = {
    'sts:RoleSessionName': request.roleSessionName,
  };
  // "aws:ResourceTag – … allow the principal to pass session tags only if the role they are
  // assuming includes the specified tags" (Permissions required to add session tags).
  for (const [key, value] of Object.entries(role.tags)) context[`aws:ResourceTag/${key}`] = value;
  const tags = request.tags ?? [];
  if (tags.length > 0) {
    context['aws:TagKeys'] = tags.map((tag) => tag.Key);
    for (const tag of tags) context[`aws:RequestTag/${tag.Key}`] = tag.Value;
  }
  if ((request.transitiveTagKeys ?? []).length > 0)
    context['sts:TransitiveTagKeys'] = [...(request.transitiveTagKeys ?? [])];
  return { ...context, ...caller.principalContext };
}

/** AWS's denial of an AssumeRole call, e.g. "User: arn:aws:sts::…:assumed-role/R/fn is not
 * authorized to perform: sts:AssumeRole on resource: arn:aws:iam::…:role/T" (HTTP 403), as
 * reported in https://github.com/uswitch/kiam/issues/33 and
 * https://github.com/getmoto/moto/pull/6793. */
export function assumeRoleDenied(caller: Caller, action: string, roleArn: string): StsError {
  return new StsError(
    'AccessDenied',
    403,
    `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${roleArn}`,
  );
}

export const expiredToken = () => new StsError('ExpiredToken', 403, EXPIRED_TOKEN_MESSAGE);

/**
 * Whether the caller may do `action` (`sts:AssumeRole`, `sts:TagSession`) on the role, within the
 * account. The trust policy must allow it: a role trust policy is one of the two resource-based
 * policies that "must explicitly allow access for principals". When it names the caller's role
 * ARN or role session ARN, that grant stands on its own in the same account ("resource-based
 * policies that grant permissions to an IAM role ARN are limited by an implicit deny in a
 * permissions boundary or session policy", not by one in an identity-based policy; one that names
 * the session ARN "grant[s] permissions directly to the assumed role session"). When it names the
 * account (`arn:aws:iam::<account>:root` or the account id), the account delegates to IAM, so the
 * caller's identity policy must allow the action too. An explicit Deny in either refuses.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
export function assumeRoleAllowed(
  action: string,
  caller: Caller,
  role: AssumableRole,
  context: Readonly<Record<string, string | readonly string[]>>,
  accountId: string,
): boolean {
  const request = { action, resource: role.arn, context };
  const identity: PolicyDecision =
    caller.policies === undefined ? 'allow' : evaluatePolicies(caller.policies, request);
  const trust = trustDecision(role.trustPolicy, request, caller, accountId);
  if (identity === 'explicit-deny' || trust === 'deny') return false;
  if (trust === 'direct') return true;
  return trust === 'account' && identity === 'allow';
}

type TrustDecision = 'deny' | 'direct' | 'account' | 'none';

function trustDecision(
  policy: TrustPolicyDocument,
  request: {
    action: string;
    resource: string;
    context: Readonly<Record<string, string | readonly string[]>>;
  },
  caller: Caller,
  accountId: string,
): TrustDecision {
  const context = requestContext(request.context);
  let decision: TrustDecision = 'none';
  for (const statement of policy.Statement) {
    const named = principalMatch(statement.Principal, caller, accountId);
    if (named === 'none') continue;
    const { Principal: _principal, ...rest } = statement;
    if (!statementApplies({ ...rest, Resource: '*' }, request, context, policy.Version)) continue;
    if (statement.Effect === 'Deny') return 'deny';
    if (named === 'direct' || decision === 'none') decision = named;
  }
  return decision;
}

/**
 * Whether a statement's `Principal` names the caller: directly (its role's ARN, its session's
 * ARN), through its account (the account root or the bare account id), or not at all. `"*"` is
 * taken as the account here: it is not evaluated further locally (no Tenantry trust policy uses
 * it). Service and federated principals never name an AWS caller.
 */
function principalMatch(
  principal: TrustStatement['Principal'],
  caller: Caller,
  accountId: string,
): 'direct' | 'account' | 'none' {
  const aws = principal === '*' ? ['*'] : (principal.AWS ?? []);
  if (aws.some((value) => value === caller.arn || (caller.roleArn !== undefined && value === caller.roleArn)))
    return 'direct';
  if (aws.some((value) => value === '*' || value === accountId || value === `arn:aws:iam::${accountId}:root`))
    return 'account';
  return 'none';
}

/**
 * The principal tags of the new session: the role's tags, then the transitive tags inherited from
 * the caller's session, then the tags passed, each overriding the last "regardless of case"; and
 * the tags it passes on in turn (inherited transitive tags, and the passed tags whose keys are in
 * TransitiveTagKeys). An inherited transitive key cannot be passed again: "If you try to pass the
 * `Heart` = `3` session tag, the operation will fail" (Chaining roles with session tags); STS's
 * error for it is not documented, we answer ValidationError.
 */
export function sessionTagsOf(
  request: AssumeRoleRequest,
  caller: Caller,
  role: AssumableRole,
): { principalTags: Record<string, string>; transitiveTags: Record<string, string> } {
  const tags = request.tags ?? [];
  const inherited = Object.entries(caller.transitiveTags);
  for (const tag of tags) {
    if (inherited.some(([key]) => key.toLowerCase() === tag.Key.toLowerCase())) {
      throw new StsError(
        'ValidationError',
        400,
        `The session tag ${tag.Key} is transitive in the calling session and cannot be passed again`,
      );
    }
  }
  const principalTags: Record<string, string> = {};
  const put = (key: string, value: string) => {
    for (const existing of Object.keys(principalTags)) {
      if (existing.toLowerCase() === key.toLowerCase()) delete principalTags[existing];
    }
    principalTags[key] = value;
  };
  for (const [key, value] of Object.entries(role.tags)) put(key, value);
  for (const [key, value] of inherited) put(key, value);
  for (const tag of tags) put(tag.Key, tag.Value);
  const transitiveKeys = new Set((request.transitiveTagKeys ?? []).map((key) => key.toLowerCase()));
  const transitiveTags: Record<string, string> = Object.fromEntries(inherited);
  for (const tag of tags) if (transitiveKeys.has(tag.Key.toLowerCase())) transitiveTags[tag.Key] = tag.Value;
  return { principalTags, transitiveTags };
}

/**
 * The session's length: DurationSeconds (default 3600), refused when it exceeds the role's
 * MaxSessionDuration ("The requested DurationSeconds exceeds the MaxSessionDuration set for this
 * role.", https://github.com/kreuzwerker/awsu/issues/27) or, for a caller that is itself a role
 * session, the role chaining limit ("The requested DurationSeconds exceeds the 1 hour session
 * limit for roles assumed by role chaining.",
 * https://gitlab.com/gitlab-org/gitlab-runner/-/issues/38370), both ValidationError (400).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html#iam-term-role-chaining
 */
export function sessionDurationOf(request: AssumeRoleRequest, caller: Caller, role: AssumableRole): number {
  const duration = request.durationSeconds ?? DEFAULT_DURATION_SECONDS;
  if (caller.roleArn !== undefined && duration > ROLE_CHAINING_LIMIT_SECONDS) {
    throw new StsError(
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (duration > role.maxSessionDuration) {
    throw new StsError(
      'ValidationError',
      400,
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  return duration;
}
