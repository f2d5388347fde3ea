/**
 * The Secrets Manager stand-in's wire vocabulary: the errors it answers with and the checks of
 * the request shapes (lengths, ranges, required members) that AWS makes before an operation runs.
 *
 * Errors travel as AWS JSON 1.1 does: HTTP status + body `{"__type": "<Code>", "Message": "…"}`.
 * @aws-sdk/client-secrets-manager 3.1164 (AwsJson1_1Protocol.handleError in @aws-sdk/core) reads
 * the code from `__type` first (then `code`, then the `x-amzn-ErrorType` header), builds the
 * modelled exception class of that name (ResourceNotFoundException, InvalidRequestException, …)
 * or, for codes the model does not declare (AccessDeniedException, ValidationException), a
 * SecretsManagerServiceException whose `name` is the code; `message` comes from `message ??
 * Message`. We send both the body member and the header so either lookup finds the code.
 */

/** Every Secrets Manager error the stand-in gives is a client error: HTTP 400, as AWS lists them.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html */
export const CLIENT_ERROR_STATUS = 400;

export type ErrorCode =
  | 'AccessDeniedException'
  | 'ExpiredTokenException'
  | 'InternalServiceError'
  | 'InvalidNextTokenException'
  | 'InvalidParameterException'
  | 'InvalidRequestException'
  | 'ResourceExistsException'
  | 'ResourceNotFoundException'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'ValidationException';

export class ServiceError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number = CLIENT_ERROR_STATUS,
  ) {
    super(message);
    this.name = code;
  }
}

/** Real AWS wording, recorded against AWS in LocalStack's snapshot tests
 * (tests/aws/services/secretsmanager/test_secretsmanager.snapshot.json, `resource_not_found_dict_1`). */
export const NOT_FOUND_MESSAGE = "Secrets Manager can't find the specified secret.";

/** GetSecretValue / PutSecretValue / TagResource / UntagResource on a secret in its recovery window.
 * InvalidRequestException's first documented cause is "The secret is scheduled for deletion":
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html#API_GetSecretValue_Errors
 * (wording as LocalStack records it for AWS; clients match on the code). */
export const MARKED_FOR_DELETION_MESSAGE =
  "You can't perform this operation on the secret because it was marked for deletion.";

export const notFound = (): ServiceError => new ServiceError('ResourceNotFoundException', NOT_FOUND_MESSAGE);
export const invalidRequest = (message: string): ServiceError =>
  new ServiceError('InvalidRequestException', message);
export const invalidParameter = (message: string): ServiceError =>
  new ServiceError('InvalidParameterException', message);

/**
 * AWS's request validation (the Coral framework every JSON service shares) reports a constraint
 * violation as ValidationException "1 validation error detected: Value '<v>' at '<member>' failed
 * to satisfy constraint: Member must …", members in lowerCamel case; sensitive values are left
 * out of the message. Secret names that break the allowed characters get their own wording,
 * recorded against AWS in LocalStack's snapshot (`test_invalid_secret_name`).
 */
export function validationError(
  member: string,
  value: unknown,
  constraint: string,
  sensitive = false,
): ServiceError {
  const subject = value === undefined ? 'Value null' : sensitive ? 'Value' : `Value '${String(value)}'`;
  return new ServiceError(
    'ValidationException',
    `1 validation error detected: ${subject} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#SecretsManager-CreateSecret-request-Name
 * ("The secret name can contain ASCII letters, numbers, and the following characters: /_+=.@-"). */
export const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
export const INVALID_NAME_MESSAGE =
  'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';

export type JsonObject = Record<string, unknown>;

interface StringRule {
  readonly min?: number;
  readonly max: number;
  readonly sensitive?: boolean;
}

/** The string member `key` (lowerCamel `member` in messages), or undefined when absent. */
export function optionalString(input: JsonObject, key: string, rule: StringRule): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  const member = lowerCamel(key);
  if (typeof value !== 'string') throw serialization(key);
  if (value.length < (rule.min ?? 0)) {
    throw validationError(
      member,
      value,
      `Member must have length greater than or equal to ${rule.min}`,
      rule.sensitive,
    );
  }
  if (value.length > rule.max) {
    throw validationError(
      member,
      value,
      `Member must have length less than or equal to ${rule.max}`,
      rule.sensitive,
    );
  }
  return value;
}

export function requiredString(input: JsonObject, key: string, rule: StringRule): string {
  const value = optionalString(input, key, rule);
  if (value === undefined) throw validationError(lowerCamel(key), undefined, 'Member must not be null');
  return value;
}

export function optionalInteger(
  input: JsonObject,
  key: string,
  range: { min?: number; max?: number } = {},
): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(key);
  const member = lowerCamel(key);
  if (range.min !== undefined && value < range.min) {
    throw validationError(member, value, `Member must have value greater than or equal to ${range.min}`);
  }
  if (range.max !== undefined && value > range.max) {
    throw validationError(member, value, `Member must have value less than or equal to ${range.max}`);
  }
  return value;
}

export function optionalBoolean(input: JsonObject, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serialization(key);
  return value;
}

/** A list member: absent → undefined; otherwise each element must be of the expected kind. */
export function optionalList(input: JsonObject, key: string, max: number): unknown[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(key);
  if (value.length > max) {
    throw validationError(
      lowerCamel(key),
      JSON.stringify(value),
      `Member must have length less than or equal to ${max}`,
    );
  }
  return value;
}

export function requiredList(input: JsonObject, key: string, max: number): unknown[] {
  const list = optionalList(input, key, max);
  if (list === undefined) throw validationError(lowerCamel(key), undefined, 'Member must not be null');
  return list;
}

/** A list of strings, each checked against `rule` (members named `<key>.<n>.member` as AWS does). */
export function optionalStringList(
  input: JsonObject,
  key: string,
  max: number,
  rule: StringRule,
): string[] | undefined {
  return optionalList(input, key, max)?.map((item, i) =>
    requiredString({ [`${key}.${i + 1}.member`]: item }, `${key}.${i + 1}.member`, rule),
  );
}

export function asObject(value: unknown, key: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw serialization(key);
  return value as JsonObject;
}

/** A body that is not the JSON shape the operation takes (the SDK never sends one). */
export function serialization(key: string): ServiceError {
  return new ServiceError('SerializationException', `Unexpected value type for member ${key}`);
}

function lowerCamel(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}
