/**
 * The IAM stand-in's answer to the stand-ins' question (`Authorize`): each local function holds
 * its own access key, and a request signed with it is judged by the policies of that function's
 * role in the synthesized templates. A key the stand-in did not hand out (a person's own CLI
 * profile, or no signature at all) is treated as administrator credentials and allowed.
 *
 * The principal of a function's request is its role's session, named after the function, as for
 * a Lambda function in AWS: `arn:aws:sts::<account>:assumed-role/<role name>/<function name>`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns
 */
import { createHash } from 'node:crypto';
import { type AccessDecision, type AccessRequest, type Authorize, LOCAL_ACCOUNT_ID } from './access.ts';
import { evaluatePolicies } from './policy-evaluator.ts';
import type { FunctionPolicies } from './template-policies.ts';

export interface LocalCredentials {
  /** `ASIA` and 16 characters derived from the entry (and session): stable across restarts. */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The role the credentials are a session of. */
  readonly roleArn: string;
  /** The session's principal ARN, the one AWS names in a denial. */
  readonly sessionArn: string;
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
   * Credentials of another session of the function's role, e.g. with tenant session tags from an
   * `sts:AssumeRole` stand-in; deterministic for the same entry, name and tags.
   */
  sessionFor(entry: string, options: SessionOptions): LocalCredentials;
}

export interface TemplateAuthorizerOptions {
  /** @default LOCAL_ACCOUNT_ID */
  readonly accountId?: string;
}

export class UnknownFunctionError extends Error {
  constructor(entry: string) {
    super(`No function with the handler entry "${entry}" in the templates`);
    this.name = 'UnknownFunctionError';
  }
}

interface Session {
  readonly fn: FunctionPolicies;
  readonly credentials: LocalCredentials;
  /** The principal's request context keys: they win over any the stand-in passes. */
  readonly principalContext: Readonly<Record<string, string>>;
}

/** Base32 (A–Z, 2–7), the alphabet of AWS access key ids, of a SHA-512 digest. */
function base32(seed: string, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha512').update(seed).digest();
  let out = '';
  for (let index = 0; out.length < length; index += 1) out += alphabet[(digest[index] ?? 0) % 32];
  return out;
}

export function createTemplateAuthorizer(
  functions: readonly FunctionPolicies[],
  options: TemplateAuthorizerOptions = {},
): TemplateAuthorizer {
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const byEntry = new Map<string, FunctionPolicies>();
  for (const fn of functions) {
    if (byEntry.has(fn.entry)) throw new Error(`Two functions have the handler entry "${fn.entry}"`);
    byEntry.set(fn.entry, fn);
  }
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
      if (existing.fn !== fn)
        throw new Error(`Access key collision between ${existing.fn.entry} and ${entry}`);
      return existing.credentials;
    }
    const credentials: LocalCredentials = {
      accessKeyId,
      secretAccessKey: base32(`secret:${seed}`, 40),
      roleArn: fn.role.arn,
      sessionArn: `arn:aws:sts::${accountId}:assumed-role/${fn.role.name}/${sessionName}`,
    };
    const principalContext: Record<string, string> = {
      // For a role session, aws:PrincipalArn is the role's ARN, not the session's.
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
      'aws:PrincipalArn': fn.role.arn,
      'aws:PrincipalAccount': accountId,
    };
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag
    for (const [key, value] of Object.entries(tags)) principalContext[`aws:PrincipalTag/${key}`] = value;
    sessions.set(accessKeyId, { fn, credentials, principalContext });
    return credentials;
  };
  for (const entry of byEntry.keys()) open(entry, {});

  const authorize = (request: AccessRequest): AccessDecision => {
    const session = request.accessKeyId === undefined ? undefined : sessions.get(request.accessKeyId);
    if (!session) return { allowed: true };
    const decision = evaluatePolicies(
      session.fn.policies.map((policy) => policy.document),
      { ...request, context: { ...withoutPrincipalKeys(request.context), ...session.principalContext } },
    );
    if (decision === 'allow') return { allowed: true };
    return {
      allowed: false,
      principalArn: session.credentials.sessionArn,
      explicit: decision === 'explicit-deny',
    };
  };

  return {
    authorize,
    credentialsFor: (entry) => open(entry, {}),
    sessionFor: (entry, session) => open(entry, session),
  };
}

/** The principal's keys come from its session only; a stand-in cannot pass its own. */
function withoutPrincipalKeys(context: AccessRequest['context']): AccessRequest['context'] {
  return Object.fromEntries(
    Object.entries(context).filter(([key]) => !/^aws:principal(arn|account|tag\/)/i.test(key)),
  );
}
