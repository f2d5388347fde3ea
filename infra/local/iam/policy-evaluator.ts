/**
 * Evaluates identity-based policies for one request, the way AWS's enforcement code does for a
 * principal in the same account with no resource-based policy, SCP, permissions boundary or
 * session policy in play (see docs/local-platform.iam.draft.md for what that leaves out):
 *
 * 1. every request starts implicitly denied;
 * 2. a matching `Deny` statement in any policy is an explicit deny, whatever else allows;
 * 3. otherwise a matching `Allow` statement allows;
 * 4. otherwise the implicit deny stands.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
 */
import type { AccessRequest } from './access.ts';
import { conditionsHold } from './policy-conditions.ts';
import { type RequestContext, requestContext } from './policy-context.ts';
import { type PolicyDocument, type PolicyStatement, type PolicyValues, valuesOf } from './policy-document.ts';
import { compilePattern, globRegExp, resourcePartOffset, resourceRegExp } from './policy-patterns.ts';

export type PolicyDecision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** What a statement is asked about: the stand-ins' question without the caller's key. */
export type EvaluatedRequest = Pick<AccessRequest, 'action' | 'resource' | 'context'>;

/** The decision of a set of identity-based policies (e.g. all those attached to one role). */
export function evaluatePolicies(
  policies: readonly PolicyDocument[],
  request: EvaluatedRequest,
): PolicyDecision {
  const context = requestContext(request.context);
  let allowed = false;
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      if (!statementApplies(statement, request, context, policy.Version)) continue;
      if (statement.Effect === 'Deny') return 'explicit-deny';
      allowed = true;
    }
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** Whether the statement's action, resource and conditions all match the request. */
export function statementApplies(
  statement: PolicyStatement,
  request: EvaluatedRequest,
  context: RequestContext,
  version: string | undefined,
): boolean {
  return (
    actionMatches(statement, request.action) &&
    resourceMatches(statement, request.resource, context, version) &&
    conditionsHold(statement.Condition, context, version)
  );
}

/**
 * `Action` lists what the statement covers, `NotAction` what it does not; the service prefix
 * and action name are case-insensitive (`iam:ListAccessKeys` is `IAM:listaccesskeys`).
 * Variables are not substituted in actions.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
 */
function actionMatches(statement: PolicyStatement, action: string): boolean {
  const matches = (patterns: PolicyValues | undefined) =>
    valuesOf(patterns).some((pattern) =>
      globRegExp(compilePattern(pattern, EMPTY, undefined) ?? [], true).test(action),
    );
  return statement.Action !== undefined ? matches(statement.Action) : !matches(statement.NotAction);
}

/**
 * `Resource` lists the ARNs the statement covers, `NotResource` those it does not; ARNs compare
 * case-sensitively ("the IAM user name is case sensitive"), with wildcards per ARN segment, and
 * may hold policy variables in their resource part. A variable that does not resolve leaves its
 * `Resource` entry matching nothing, and makes a `NotResource` statement invalid (not applied).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
 */
function resourceMatches(
  statement: PolicyStatement,
  resource: string,
  context: RequestContext,
  version: string | undefined,
): boolean {
  const listed = statement.Resource !== undefined;
  const patterns = valuesOf(listed ? statement.Resource : statement.NotResource);
  let anyMatch = false;
  for (const source of patterns) {
    const pattern = compilePattern(source, context, version, resourcePartOffset(source));
    if (!pattern) {
      if (!listed) return false;
      continue;
    }
    if (resourceRegExp(pattern).test(resource)) anyMatch = true;
  }
  return listed ? anyMatch : !anyMatch;
}

const EMPTY = requestContext({});
