import { planConfigSchema } from '#shared/domain/plans';

/**
 * The most bytes the plan catalogue may take in `TENANT_PLANS`. Lambda allows 4 KB of environment
 * variables per function in all ("Environment variables: 4 KB, for all environment variables
 * associated with the function, in aggregate": https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
 * and the functions carry other variables beside it (ARNs, names, URLs).
 */
export const MAX_TENANT_PLANS_BYTES = 2048;

export class InvalidPlansError extends Error {
  constructor(reason: string) {
    super(`Invalid plan configuration (CDK context "plans" / "defaultPlan"): ${reason}`);
    this.name = 'InvalidPlansError';
  }
}

/** A context value given on the command line is a string (`-c plans='{…}'`); cdk.json gives JSON. */
function jsonValue(value: unknown, name: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidPlansError(`"${name}" is not JSON`);
  }
}

/**
 * `TENANT_PLANS` from the CDK context: `plans` (a plan name → its limits, or the limits a default
 * plan changes) and `defaultPlan` (the plan a new tenant gets), both optional, validated as the
 * functions validate them at cold start, so a bad catalogue fails the synthesis, not a deployment.
 * Without either, `{}`: the default catalogue.
 */
export function tenantPlansFromContext(plans: unknown, defaultPlan: unknown): string {
  const config = {
    ...(plans === undefined ? {} : { plans: jsonValue(plans, 'plans') }),
    ...(defaultPlan === undefined ? {} : { defaultPlan }),
  };
  const parsed = planConfigSchema.safeParse(config);
  if (!parsed.success) {
    throw new InvalidPlansError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
    );
  }
  const json = JSON.stringify(config);
  if (Buffer.byteLength(json) > MAX_TENANT_PLANS_BYTES) {
    throw new InvalidPlansError(
      `${Buffer.byteLength(json)} bytes of JSON, more than ${MAX_TENANT_PLANS_BYTES}`,
    );
  }
  return json;
}
