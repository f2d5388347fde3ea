/**
 * The IAM stand-in's answer to the stand-ins' question (`Authorize`): each local function holds
 * its own access key, and a request signed with it is judged by the policies of that function's
 * role in the synthesized templates. A key the stand-in did not hand out (a person's own CLI
 * profile, or no signature at all) is treated as administrator credentials and allowed.
 *
 * The principal of a function's request is its role's session, named after the function, as for
 * a Lambda function in AWS: `arn:aws:sts::<account>:assumed-role/<role name>/<function name>`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
 *
 * `assumeRole` is STS's AssumeRole for the STS stand-in (rules in assume-role.ts): it mints
 * temporary credentials of a role of the assembly, judged by that role's policies with the session
 * tags as principal tags, until they expire; then every stand-in refuses them as expired.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type AccessDecision, type AccessRequest, type Authorize, LOCAL_ACCOUNT_ID } from './access.ts';
import {
  type AssumableRole,
  type AssumeRoleRequest,
  assumeRoleAllowed,
  assumeRoleContext,
  assumeRoleDenied,
  type Caller,
  expiredToken,
  sessionDurationOf,
  sessionTagsOf,
  validateAssumeRole,
} from './assume-role.ts';
import type { PolicyDocument } from './policy-document.ts';
import { evaluatePolicies } from './policy-evaluator.ts';
import type { FunctionPolicies, RolePolicies } from './template-policies.ts';

export type { AssumeRoleRequest, SessionTag } from './assume-role.ts';
export { StsError } from './assume-role.ts';

export interface LocalCredentials {
  /** `ASIA` and 16 characters derived from the entry (and session): stable across restarts. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The role the credentials are a session of. */
  readonly roleArn: string;
  /** The session's principal ARN, the one AWS names in a denial. */
  readonly sessionArn: string;
}

/** The credentials `assumeRole` returns: STS's `Credentials`, plus the session's role and ARN. */
export interface TemporaryCredentials extends LocalCredentials {
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface AssumedRole {
  readonly credentials: TemporaryCredentials;
  /** STS's `AssumedRoleUser`: the session's ARN and `<role id>:<session name>`. */
  readonly assumedRoleUser: { readonly arn: string; readonly assumedRoleId: string };
}

/** GetCallerIdentity's answer for a key. */
export interface CallerIdentity {
  readonly arn: string;
  readonly userId: string;
  readonly account: string;
}

export interface SessionOptions {
  /**
   * Session tags: `aws:PrincipalTag/<key>` values that override the role's tags of the same key.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
   */
  readonly tags?: Readonly<Record<string, string>>;
  /** @default - the function's name */
  readonly sessionName?: string;
}

export interface TemplateAuthorizer {
  readonly authorize: Authorize;
  /** The credentials of a function's own role session, as Lambda hands them to the function. */
  credentialsFor(entry: string): LocalCredentials;
  /**
   * Credentials of another session of the function's role, with session tags, that do not expire;
   * deterministic for the same entry, name and tags.
   */
  sessionFor(entry: string, options: SessionOptions): LocalCredentials;
  /**
   * STS AssumeRole: temporary credentials of a role of the assembly (`roles` option), or an
   * `StsError` (`ValidationError` 400, `AccessDenied` 403, `ExpiredToken` 403) as STS answers.
   */
  assumeRole(request: AssumeRoleRequest): AssumedRole;
  /** STS GetCallerIdentity for a key: its session's ARN; the administrator's for a key of no session. */
  callerIdentity(accessKeyId: string | undefined): CallerIdentity;
}

export interface TemplateAuthorizerOptions {
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
  /**
   * The roles `assumeRole` can assume (`rolesOf` of the assembly).
   * @default - none: every AssumeRole is refused as for a role that does not exist
   */
  readonly roles?: readonly RolePolicies[];
  /** The clock temporary credentials expire by. @default - the system clock */
  readonly now?: () => Date;
}

/** The principal a key of no session stands for: an administrator of the account. */
export const localAdministratorArn = (accountId: string) =>
  `arn:aws:iam::${accountId}:user/local-administrator`;

export class UnknownFunctionError extends Error {
  constructor(entry: string) {
    super(`No function with the handler entry "${entry}" in the templates`);
    this.name = 'UnknownFunctionError';
  }
}

interface Session {
  /** Who the key belongs to (a function's entry, or an assumed role's ARN): one key, one owner. */
  readonly owner: string;
  readonly credentials: LocalCredentials;
  readonly policies: readonly PolicyDocument[];
  /** The principal's request context keys: they win over any the stand-in passes. */
  readonly principalContext: Readonly<Record<string, string>>;
  /** Transitive session tags, passed on to a session this one assumes. */
  readonly transitiveTags: Readonly<Record<string, string>>;
  /** `AROA…:<session name>`. */
  readonly userId: string;
  /** Epoch milliseconds after which the key is refused as expired; undefined: never. */
  readonly expiresAt: number | undefined;
}

/** Base32 (A–Z, 2–7), the alphabet of AWS access key ids, of a SHA-512 digest. */
function base32(seed: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha512').update(seed).digest();
  let out = '';
  for (let index = 0; out.length < length; index += 1) out += alphabet[(digest[index] ?? 0) % 32];
  return out;
}

/** A role's unique id: `AROA` and 17 characters, as IAM gives roles (stable for the ARN).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids */
const roleIdOf = (roleArn: string) => `AROA${base32(`role:${roleArn}`, 17)}`;

function principalContextOf(roleArn: string, accountId: string, tags: Readonly<Record<string, string>>) {
  const context: Record<string, string> = {
    // For a role session, aws:PrincipalArn is the role's ARN, not the session's.
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    'aws:PrincipalArn': roleArn,
    'aws:PrincipalAccount': accountId,
  };
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag
  for (const [key, value] of Object.entries(tags)) context[`aws:PrincipalTag/${key}`] = value;
  return context;
}

export function createTemplateAuthorizer(
  functions: readonly FunctionPolicies[],
  options: TemplateAuthorizerOptions = {},
): TemplateAuthorizer {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const now = options.now ?? (() => new Date());
  const byEntry = new Map<string, FunctionPolicies>();
  for (const fn of functions) {
    if (byEntry.has(fn.entry)) throw new Error(`Two functions have the handler entry "${fn.entry}"`);
    byEntry.set(fn.entry, fn);
  }
  const rolesByArn = new Map((options.roles ?? []).map((role) => [role.role.arn, role]));
  const sessions = new Map<string, Session>();

  const open = (entry: string, session: SessionOptions): LocalCredentials => {
    const fn = byEntry.get(entry);
    if (!fn) throw new UnknownFunctionError(entry);
    const sessionName = session.sessionName ?? fn.functionName;
    const tags = { ...fn.role.tags, ...session.tags };
    const seed = JSON.stringify([entry, sessionName, Object.entries(tags).sort()]);
    const accessKeyId = `ASIA${base32(`key:${seed}`, 16)}`;
    const existing = sessions.get(accessKeyId);
    if (existing) {
      if (existing.owner !== entry)
        throw new Error(`Access key collision between ${existing.owner} and ${entry}`);
      return existing.credentials;
    }
    const credentials: LocalCredentials = {
      accessKeyId,
      secretAccessKey: base32(`secret:${seed}`, 40),
      roleArn: fn.role.arn,
      sessionArn: `arn:aws:sts::${accountId}:assumed-role/${fn.role.name}/${sessionName}`,
    };
    sessions.set(accessKeyId, {
      owner: entry,
      credentials,
      policies: fn.policies.map((policy) => policy.document),
      principalContext: principalContextOf(fn.role.arn, accountId, tags),
      transitiveTags: {},
      userId: `${roleIdOf(fn.role.arn)}:${sessionName}`,
      expiresAt: undefined,
    });
    return credentials;
  };
  for (const entry of byEntry.keys()) open(entry, {});

  const isExpired = (session: Session) =>
    session.expiresAt !== undefined && now().getTime() >= session.expiresAt;

  const authorize = (request: AccessRequest): AccessDecision => {
    const session = request.accessKeyId === undefined ? undefined : sessions.get(request.accessKeyId);
    if (!session) return { allowed: true };
    const principalArn = session.credentials.sessionArn;
    if (isExpired(session)) return { allowed: false, expired: true, principalArn };
    const decision = evaluatePolicies(session.policies, {
      ...request,
      context: { ...withoutPrincipalKeys(request.context), ...session.principalContext },
    });
    if (decision === 'allow') return { allowed: true };
    return { allowed: false, principalArn, explicit: decision === 'explicit-deny' };
  };

  /** The caller of an STS call; an expired session is refused before anything else. */
  const callerOf = (accessKeyId: string | undefined): Caller => {
    const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
    if (!session) {
      const arn = localAdministratorArn(accountId);
      return {
        arn,
        roleArn: undefined,
        policies: undefined,
        principalContext: { 'aws:PrincipalArn': arn, 'aws:PrincipalAccount': accountId },
        transitiveTags: {},
      };
    }
    if (isExpired(session)) throw expiredToken();
    return {
      arn: session.credentials.sessionArn,
      roleArn: session.credentials.roleArn,
      policies: session.policies,
      principalContext: session.principalContext,
      transitiveTags: session.transitiveTags,
    };
  };

  const assumeRole = (request: AssumeRoleRequest): AssumedRole => {
    const caller = callerOf(request.callerAccessKeyId);
    validateAssumeRole(request);
    const template = rolesByArn.get(request.roleArn);
    // STS answers a role that does not exist as it answers one the caller may not assume:
    // AccessDenied (https://github.com/getmoto/moto/pull/6793, https://github.com/localstack/localstack/pull/8730).
    if (!template) throw assumeRoleDenied(caller, 'sts:AssumeRole', request.roleArn);
    const role: AssumableRole = {
      arn: template.role.arn,
      tags: template.role.tags,
      trustPolicy: template.trustPolicy,
      maxSessionDuration: template.maxSessionDuration,
    };
    const context = assumeRoleContext(request, caller, role);
    // "In addition to the action that matches the API operation, you must have the following
    // permissions-only action in your policy: sts:TagSession" when passing session tags.
    const actions =
      (request.tags ?? []).length > 0 ? ['sts:AssumeRole', 'sts:TagSession'] : ['sts:AssumeRole'];
    for (const action of actions) {
      if (!assumeRoleAllowed(action, caller, role, context, accountId))
        throw assumeRoleDenied(caller, action, role.arn);
    }
    const duration = sessionDurationOf(request, caller, role);
    const { principalTags, transitiveTags } = sessionTagsOf(request, caller, role);

    let accessKeyId: string;
    do accessKeyId = `ASIA${base32(randomBytes(32).toString('hex'), 16)}`;
    while (sessions.has(accessKeyId));
    const sessionArn = `arn:aws:sts::${accountId}:assumed-role/${template.role.name}/${request.roleSessionName}`;
    const expiration = new Date(Math.floor(now().getTime() / 1000) * 1000 + duration * 1000);
    const credentials: TemporaryCredentials = {
      accessKeyId,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      expiration,
      roleArn: role.arn,
      sessionArn,
    };
    const userId = `${roleIdOf(role.arn)}:${request.roleSessionName}`;
    sessions.set(accessKeyId, {
      owner: role.arn,
      credentials,
      policies: template.policies.map((policy) => policy.document),
      principalContext: principalContextOf(role.arn, accountId, principalTags),
      transitiveTags,
      userId,
      expiresAt: expiration.getTime(),
    });
    return { credentials, assumedRoleUser: { arn: sessionArn, assumedRoleId: userId } };
  };

  const callerIdentity = (accessKeyId: string | undefined): CallerIdentity => {
    const session = accessKeyId === undefined ? undefined : sessions.get(accessKeyId);
    if (!session)
      return {
        arn: localAdministratorArn(accountId),
        userId: `AIDA${base32(`user:${accountId}`, 17)}`,
        account: accountId,
      };
    if (isExpired(session)) throw expiredToken();
    return { arn: session.credentials.sessionArn, userId: session.userId, account: accountId };
  };

  return {
    authorize,
    credentialsFor: (entry) => open(entry, {}),
    sessionFor: (entry, session) => open(entry, session),
    assumeRole,
    callerIdentity,
  };
}

/** The principal's keys come from its session only; a stand-in cannot pass its own. */
function withoutPrincipalKeys(context: AccessRequest['context']): AccessRequest['context'] {
  return Object.fromEntries(
    Object.entries(context).filter(([key]) => !/^aws:principal(arn|account|tag\/)/i.test(key)),
  );
}
