/**
 * The request bodies of the five operations, read the way the service reads them: members the
 * model does not know are ignored, a member of the wrong JSON type is a SerializationException,
 * a missing required member or one outside the model's length constraints a ValidationException.
 * Shapes and constraints: the API model (`Arn` 11–100, `DbName` 0–64, `Id` 0–192, `SqlStatement`
 * 0–65536, botocore data/rds-data/2018-08-01/service-2.json), as listed on
 * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html
 */
import * as z from 'zod';
import { constraintViolation, serialization, validation } from './errors.ts';

const field = z.object({
  isNull: z.boolean().optional(),
  booleanValue: z.boolean().optional(),
  longValue: z.number().optional(),
  doubleValue: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]).optional(),
  stringValue: z.string().optional(),
  /** base64, as the restJson1 protocol sends blobs. */
  blobValue: z.string().optional(),
  arrayValue: z.unknown().optional(),
});
export type FieldInput = z.infer<typeof field>;

const typeHint = z.enum(['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID']);
export type TypeHint = z.infer<typeof typeHint>;

const parameter = z.object({
  name: z.string().optional(),
  value: field.optional(),
  typeHint: z.string().optional(),
});
export interface SqlParameterInput {
  readonly name: string;
  readonly value: FieldInput;
  readonly typeHint: TypeHint | undefined;
}

const common = {
  resourceArn: z.string().optional(),
  secretArn: z.string().optional(),
  database: z.string().optional(),
  schema: z.string().optional(),
  transactionId: z.string().optional(),
};

const executeBody = z.object({
  ...common,
  sql: z.string().optional(),
  parameters: z.array(parameter).optional(),
  includeResultMetadata: z.boolean().optional(),
  continueAfterTimeout: z.boolean().optional(),
  resultSetOptions: z
    .object({ decimalReturnType: z.string().optional(), longReturnType: z.string().optional() })
    .optional(),
  formatRecordsAs: z.string().optional(),
});

const batchBody = z.object({
  ...common,
  sql: z.string().optional(),
  parameterSets: z.array(z.array(parameter)).optional(),
});

export interface Target {
  readonly resourceArn: string;
  readonly secretArn: string;
}

export interface ExecuteRequest extends Target {
  readonly sql: string;
  readonly database: string | undefined;
  readonly transactionId: string | undefined;
  readonly parameters: readonly SqlParameterInput[];
  readonly includeResultMetadata: boolean;
  readonly continueAfterTimeout: boolean;
  readonly decimalReturnType: 'STRING' | 'DOUBLE_OR_LONG';
  readonly longReturnType: 'STRING' | 'LONG';
  readonly formatRecordsAs: 'NONE' | 'JSON';
}

export interface BatchRequest extends Target {
  readonly sql: string;
  readonly database: string | undefined;
  readonly transactionId: string | undefined;
  readonly parameterSets: readonly (readonly SqlParameterInput[])[];
}

export interface BeginRequest extends Target {
  readonly database: string | undefined;
}

export interface EndRequest extends Target {
  readonly transactionId: string;
}

function shaped<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw serialization(
      `Could not read the request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
    );
  }
  return parsed.data;
}

function required<T>(value: T | undefined, member: string): T {
  if (value === undefined) throw constraintViolation(member, 'Member must not be null');
  return value;
}

function length(value: string | undefined, member: string, min: number, max: number): void {
  if (value === undefined) return;
  const size = [...value].length;
  if (size < min)
    throw constraintViolation(member, `Member must have length greater than or equal to ${min}`);
  if (size > max) throw constraintViolation(member, `Member must have length less than or equal to ${max}`);
}

function oneOf<T extends string>(
  value: string | undefined,
  member: string,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw constraintViolation(member, `Member must satisfy enum value set: [${allowed.join(', ')}]`);
  }
  return value as T;
}

type Common = { [K in keyof typeof common]?: string | undefined };

function target(body: Common): Target {
  const resourceArn = required(body.resourceArn, 'resourceArn');
  const secretArn = required(body.secretArn, 'secretArn');
  length(resourceArn, 'resourceArn', 11, 100);
  length(secretArn, 'secretArn', 11, 100);
  length(body.database, 'database', 0, 64);
  length(body.transactionId, 'transactionId', 0, 192);
  // "When you include the Schema parameter in an API call, the Data API returns this error–
  // ValidationException: The schema parameter isn't supported" (data-api.differences.html).
  if (body.schema !== undefined) throw validation("The schema parameter isn't supported");
  return { resourceArn, secretArn };
}

function sqlOf(sql: string | undefined, sqlLength: number): string {
  const text = required(sql, 'sql');
  length(text, 'sql', 0, sqlLength);
  return text;
}

function parameters(list: readonly z.infer<typeof parameter>[] | undefined): SqlParameterInput[] {
  return (list ?? []).map((item, index) => ({
    name: item.name ?? '',
    value: required(item.value, `parameters.${index + 1}.member.value`),
    typeHint:
      item.typeHint === undefined ? undefined : oneOf(item.typeHint, 'typeHint', typeHint.options, 'JSON'),
  }));
}

const emptyToUndefined = (value: string | undefined) => (value === '' ? undefined : value);

export function executeRequest(body: unknown, sqlLength: number): ExecuteRequest {
  const input = shaped(executeBody, body);
  return {
    ...target(input),
    sql: sqlOf(input.sql, sqlLength),
    database: emptyToUndefined(input.database),
    transactionId: emptyToUndefined(input.transactionId),
    parameters: parameters(input.parameters),
    includeResultMetadata: input.includeResultMetadata ?? false,
    continueAfterTimeout: input.continueAfterTimeout ?? false,
    decimalReturnType: oneOf(
      input.resultSetOptions?.decimalReturnType,
      'resultSetOptions.decimalReturnType',
      ['STRING', 'DOUBLE_OR_LONG'] as const,
      'STRING',
    ),
    longReturnType: oneOf(
      input.resultSetOptions?.longReturnType,
      'resultSetOptions.longReturnType',
      ['STRING', 'LONG'] as const,
      'LONG',
    ),
    formatRecordsAs: oneOf(input.formatRecordsAs, 'formatRecordsAs', ['NONE', 'JSON'] as const, 'NONE'),
  };
}

export function batchRequest(body: unknown, sqlLength: number): BatchRequest {
  const input = shaped(batchBody, body);
  return {
    ...target(input),
    sql: sqlOf(input.sql, sqlLength),
    database: emptyToUndefined(input.database),
    transactionId: emptyToUndefined(input.transactionId),
    parameterSets: (input.parameterSets ?? []).map(parameters),
  };
}

export function beginRequest(body: unknown): BeginRequest {
  const input = shaped(z.object(common), body);
  return { ...target(input), database: emptyToUndefined(input.database) };
}

export function endRequest(body: unknown): EndRequest {
  const input = shaped(z.object(common), body);
  return { ...target(input), transactionId: required(input.transactionId, 'transactionId') };
}
