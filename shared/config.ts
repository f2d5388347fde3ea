import * as z from 'zod';
import { ConfigError } from '#shared/errors';

/**
 * Parses environment values with a zod object schema at cold start. A missing or invalid variable
 * throws a `ConfigError` that names every offending variable, so a misconfigured function fails
 * fast with a message a platform engineer can act on.
 */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const variables = [...new Set(result.error.issues.map((issue) => String(issue.path[0] ?? '(root)')))];
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(root)');
    return env[name] === undefined ? `${name}: missing` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`, variables);
}

/** Reusable pieces of configuration schemas. */
export const configFields = {
  // At most 11 characters: a tenant secret's ARN, which names the stage, must fit the Data API's
  // 100-character secretArn (shared/provisioning/names.ts).
  stage: z.string().regex(/^[a-z][a-z0-9-]{1,10}$/, 'lower-case stage name of 2-11 characters'),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  url: z.url(),
  arn: z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:/, 'an ARN'),
  name: z.string().min(1),
  /** A variable holding one JSON value (parse it further with `.pipe(schema)`). */
  jsonText: z.string().transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
      return z.NEVER;
    }
  }),
};

/** Configuration every HTTP handler reads. */
export const baseHttpConfigSchema = z.object({
  TENANTRY_STAGE: configFields.stage,
  LOG_LEVEL: configFields.logLevel,
});

/**
 * The timeout of a Tenantry function unless its construct sets another (every HTTP route
 * function): API Gateway HTTP APIs give up after 30 s, so a route function stops just before.
 * The CDK construct (infra/constructs/tenantry-function.ts) and the local gateway use this one
 * number; an idempotency lease is made longer than it (shared/control/idempotency-records.ts).
 */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 29;

/**
 * "By default, the Data API cancels an operation and returns a timeout error if the operation
 * doesn't finish processing within 45 seconds"
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html). A
 * statement sent just before its function timed out may still commit up to this long after.
 */
export const DATA_API_STATEMENT_TIMEOUT_SECONDS = 45;
