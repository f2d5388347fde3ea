/**
 * The identity-based policy documents the IAM stand-in evaluates, parsed from template JSON into
 * one normal form (every value a string or a list of strings), and refused loudly when they use
 * anything outside the subset the evaluator implements: a construct we do not evaluate must stop
 * the platform at boot, never be judged silently one way or the other.
 *
 * Grammar: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 * Elements: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements.html
 */
import * as z from 'zod';

/** A policy element that may be one string or a list of them (`Action`, `Resource`, values). */
export type PolicyValues = string | readonly string[];

/** `{ operator: { conditionKey: value(s) } }`; key names keep the case they were written in. */
export type ConditionBlock = Readonly<Record<string, Readonly<Record<string, PolicyValues>>>>;

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: PolicyValues;
  readonly NotAction?: PolicyValues;
  readonly Resource?: PolicyValues;
  readonly NotResource?: PolicyValues;
  readonly Condition?: ConditionBlock;
}

export interface PolicyDocument {
  /**
   * The policy language version. Policy variables are substituted only in `2012-10-17`; under
   * any other (or none) `${…}` is literal text.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
   */
  readonly Version?: string;
  readonly Statement: readonly PolicyStatement[];
}

/** A policy uses something the local evaluator does not implement (or that AWS would reject). */
export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPolicyError';
  }
}

/**
 * The condition operators evaluated, without their `ForAllValues:`/`ForAnyValue:` prefix and
 * `IfExists` suffix. Date, IP address and binary operators are not implemented (no Tenantry
 * template uses them) and are refused at parse time.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
 */
export const CONDITION_OPERATORS = [
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'ArnEquals',
  'ArnLike',
  'ArnNotEquals',
  'ArnNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'Bool',
  'Null',
] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

export interface ParsedOperator {
  readonly operator: ConditionOperator;
  readonly set: 'ForAllValues' | 'ForAnyValue' | undefined;
  readonly ifExists: boolean;
}

/**
 * Splits `ForAnyValue:StringLikeIfExists` into its parts. `IfExists` may end any operator but
 * `Null`; the set qualifiers apply to every comparison operator (not to `Null`).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
 */
export function parseOperator(name: string): ParsedOperator {
  const match = /^(?:(ForAllValues|ForAnyValue):)?(\w+?)(IfExists)?$/.exec(name);
  const operator = CONDITION_OPERATORS.find((candidate) => candidate === match?.[2]);
  if (!match || !operator) throw new UnsupportedPolicyError(`Unsupported condition operator "${name}"`);
  const set = match[1] as ParsedOperator['set'];
  const ifExists = match[3] !== undefined;
  if (operator === 'Null' && (ifExists || set)) {
    throw new UnsupportedPolicyError(`"${name}": Null takes neither IfExists nor a set qualifier`);
  }
  return { operator, set, ifExists };
}

// JSON scalars become strings: templates may write `"Bool": { "aws:SecureTransport": false }`.
const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const values = z.union([scalar, z.array(scalar)]);

const statementSchema = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: values.optional(),
    NotAction: values.optional(),
    Resource: values.optional(),
    NotResource: values.optional(),
    Condition: z.record(z.string(), z.record(z.string(), values)).optional(),
    Principal: z.unknown().optional(),
    NotPrincipal: z.unknown().optional(),
  })
  .strict();

const documentSchema = z
  .object({
    Version: z.string().optional(),
    Id: z.string().optional(),
    Statement: z.union([statementSchema, z.array(statementSchema)]),
  })
  .strict();

/**
 * Parses an identity-based policy document (already free of CloudFormation intrinsics).
 * Identity-based statements name no principal, and each has exactly one of Action/NotAction and
 * one of Resource/NotResource.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
export function parsePolicyDocument(raw: unknown, where = 'policy'): PolicyDocument {
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UnsupportedPolicyError(
      `${where}: not an identity-based policy document we evaluate: ${z.prettifyError(parsed.error)}`,
    );
  }
  const statements = [parsed.data.Statement].flat();
  for (const [index, statement] of statements.entries()) {
    const label = `${where}, statement ${statement.Sid ?? index}`;
    if (statement.Principal !== undefined || statement.NotPrincipal !== undefined) {
      throw new UnsupportedPolicyError(`${label}: identity-based policies name no Principal`);
    }
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
      throw new UnsupportedPolicyError(`${label}: needs exactly one of Action and NotAction`);
    }
    if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
      throw new UnsupportedPolicyError(`${label}: needs exactly one of Resource and NotResource`);
    }
    for (const [name, keys] of Object.entries(statement.Condition ?? {})) {
      const { operator } = parseOperator(name);
      const boolean = operator === 'Null' || operator === 'Bool';
      const values = Object.values(keys).flatMap(valuesOf);
      // Variables may stand in a Bool value; Null takes only the two words.
      const word = (value: string) =>
        /^(true|false)$/i.test(value) || (operator === 'Bool' && value.startsWith('${'));
      if (boolean && !values.every(word)) {
        throw new UnsupportedPolicyError(`${label}: ${name} compares only with "true" or "false"`);
      }
    }
  }
  return {
    ...(parsed.data.Version === undefined ? {} : { Version: parsed.data.Version }),
    Statement: statements.map(({ Principal: _p, NotPrincipal: _n, ...statement }) => statement),
  };
}

/** `Action: "s3:GetObject"` and `Action: ["s3:GetObject"]` alike, as a list. */
export function valuesOf(value: PolicyValues | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * Who a trust policy statement names: `"*"` (anyone), or AWS principals (account ids, account
 * roots `arn:aws:iam::<account>:root`, role and role session ARNs), services and federated
 * providers. https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 */
export type TrustPrincipal =
  | '*'
  | {
      readonly AWS?: readonly string[];
      readonly Service?: readonly string[];
      readonly Federated?: readonly string[];
    };

export interface TrustStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal: TrustPrincipal;
  readonly Action?: PolicyValues;
  readonly NotAction?: PolicyValues;
  readonly Condition?: ConditionBlock;
}

/** A role's trust policy (`AssumeRolePolicyDocument`): the resource-based policy of the role. */
export interface TrustPolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly TrustStatement[];
}

const principalValues = z.union([z.string(), z.array(z.string())]).transform((value) => [value].flat());
const principalSchema = z.union([
  z.literal('*'),
  z
    .object({
      AWS: principalValues.optional(),
      Service: principalValues.optional(),
      Federated: principalValues.optional(),
    })
    .strict(),
]);

/**
 * Parses a role trust policy (already free of intrinsics). Each statement names a `Principal`
 * (`NotPrincipal` is not evaluated and refused), has exactly one of Action/NotAction and no
 * `Resource`: the resource is the role itself.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html (trust policy)
 */
export function parseTrustPolicyDocument(raw: unknown, where = 'trust policy'): TrustPolicyDocument {
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UnsupportedPolicyError(
      `${where}: not a trust policy we evaluate: ${z.prettifyError(parsed.error)}`,
    );
  }
  const statements = [parsed.data.Statement].flat().map((statement, index): TrustStatement => {
    const label = `${where}, statement ${statement.Sid ?? index}`;
    if (statement.NotPrincipal !== undefined)
      throw new UnsupportedPolicyError(`${label}: NotPrincipal is not evaluated`);
    const principal = principalSchema.safeParse(statement.Principal);
    if (!principal.success)
      throw new UnsupportedPolicyError(`${label}: a trust policy statement names a Principal`);
    if (statement.Resource !== undefined || statement.NotResource !== undefined) {
      throw new UnsupportedPolicyError(`${label}: a trust policy names no Resource`);
    }
    if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
      throw new UnsupportedPolicyError(`${label}: needs exactly one of Action and NotAction`);
    }
    for (const name of Object.keys(statement.Condition ?? {})) parseOperator(name);
    const { Principal: _p, NotPrincipal: _n, Resource: _r, NotResource: _nr, ...rest } = statement;
    return { ...rest, Principal: principal.data };
  });
  return {
    ...(parsed.data.Version === undefined ? {} : { Version: parsed.data.Version }),
    Statement: statements,
  };
}
