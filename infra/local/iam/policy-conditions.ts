/**
 * A statement's `Condition` block against a request context: true when every condition holds.
 *
 * Logic (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html):
 * operators are ANDed, the keys under one operator are ANDed, the values of one key are ORed, and
 * for a negated operator (`StringNotEquals`, `ArnNotLike`, …) the values are NORed.
 *
 * A key missing from the request makes its condition false, except that negated operators are
 * then true, `…IfExists` is true, and `Null` tests for exactly that.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 *
 * Set qualifiers compare every request value: `ForAllValues` is true when each one satisfies the
 * operator (and when the key is missing or empty), `ForAnyValue` when at least one does (false
 * when the key is missing or empty).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */

import type { RequestContext } from './policy-context.ts';
import { type ConditionBlock, type ConditionOperator, parseOperator, valuesOf } from './policy-document.ts';
import { arnMatches, compilePattern, globRegExp, type Pattern, patternText } from './policy-patterns.ts';

/** Operators that hold when the request value matches none of the policy values. */
const NEGATED = new Set<ConditionOperator>([
  'StringNotEquals',
  'StringNotEqualsIgnoreCase',
  'StringNotLike',
  'ArnNotEquals',
  'ArnNotLike',
  'NumericNotEquals',
]);

/**
 * Which operators take policy variables in their values: the string and ARN operators (policy
 * variables page) and `Bool` (condition operators page); not `Numeric…` or `Null`.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#policy-vars-conditionelement
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Boolean
 */
const TAKES_VARIABLES = (operator: ConditionOperator) =>
  operator.startsWith('String') || operator.startsWith('Arn') || operator === 'Bool';

type Comparison = (requestValue: string, policyValue: Pattern) => boolean;

const numeric = (test: (request: number, policy: number) => boolean): Comparison => {
  return (requestValue, policyValue) => {
    const request = Number(requestValue);
    const policy = Number(patternText(policyValue));
    const valid = requestValue.trim() !== '' && Number.isFinite(request) && Number.isFinite(policy);
    return valid && test(request, policy);
  };
};

const equalsText: Comparison = (value, pattern) => value === patternText(pattern);
const equalsIgnoringCase: Comparison = (value, pattern) =>
  value.toLowerCase() === patternText(pattern).toLowerCase();
const like: Comparison = (value, pattern) => globRegExp(pattern, false).test(value);

/** The positive comparison behind each operator (a negated one is its complement). */
const COMPARISONS: Readonly<Record<Exclude<ConditionOperator, 'Null'>, Comparison>> = {
  StringEquals: equalsText,
  StringNotEquals: equalsText,
  StringEqualsIgnoreCase: equalsIgnoringCase,
  StringNotEqualsIgnoreCase: equalsIgnoringCase,
  StringLike: like,
  StringNotLike: like,
  ArnEquals: arnMatches,
  ArnLike: arnMatches,
  ArnNotEquals: arnMatches,
  ArnNotLike: arnMatches,
  NumericEquals: numeric((request, policy) => request === policy),
  NumericNotEquals: numeric((request, policy) => request === policy),
  NumericLessThan: numeric((request, policy) => request < policy),
  NumericLessThanEquals: numeric((request, policy) => request <= policy),
  NumericGreaterThan: numeric((request, policy) => request > policy),
  NumericGreaterThanEquals: numeric((request, policy) => request >= policy),
  // "Boolean matching" against "true" or "false".
  Bool: equalsIgnoringCase,
};

/** Whether every condition of the block holds for the request. */
export function conditionsHold(
  block: ConditionBlock | undefined,
  context: RequestContext,
  version: string | undefined,
): boolean {
  for (const [operatorName, keys] of Object.entries(block ?? {})) {
    const { operator, set, ifExists } = parseOperator(operatorName);
    for (const [key, rawValues] of Object.entries(keys)) {
      const requestValues = context.get(key);
      const policyValues = valuesOf(rawValues);
      if (operator === 'Null') {
        // "true": the key must be absent; "false": it must be present. Values are ORed.
        if (
          !policyValues.some((value) => (value.toLowerCase() === 'true') === (requestValues === undefined))
        ) {
          return false;
        }
        continue;
      }
      if (requestValues === undefined) {
        const holds = ifExists || set === 'ForAllValues' || (set === undefined && NEGATED.has(operator));
        if (!holds) return false;
        continue;
      }
      const patterns: Pattern[] = [];
      for (const value of policyValues) {
        const pattern = compilePattern(value, context, TAKES_VARIABLES(operator) ? version : undefined);
        // A variable the request cannot resolve makes the statement invalid: it must not apply.
        if (!pattern) return false;
        patterns.push(pattern);
      }
      if (!keyHolds(operator, set, requestValues, patterns)) return false;
    }
  }
  return true;
}

function keyHolds(
  operator: Exclude<ConditionOperator, 'Null'>,
  set: 'ForAllValues' | 'ForAnyValue' | undefined,
  requestValues: readonly string[],
  patterns: readonly Pattern[],
): boolean {
  const compare = COMPARISONS[operator];
  const negated = NEGATED.has(operator);
  // One request value against the policy's values: OR, or NOR for a negated operator.
  const valueHolds = (value: string) => patterns.some((pattern) => compare(value, pattern)) !== negated;
  if (set === 'ForAllValues') return requestValues.every(valueHolds);
  if (set === 'ForAnyValue') return requestValues.some(valueHolds);
  // A single-valued key has one value. Should a plain operator meet several, a positive one
  // holds when any value matches and a negated one when none does (the complement).
  return negated ? requestValues.every(valueHolds) : requestValues.some(valueHolds);
}
