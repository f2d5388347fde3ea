/**
 * The errors the stand-in answers with, as the RDS Data API words them. Each is sent as an HTTP
 * status, an `x-amzn-errortype` header and a `{"message": …}` body: the SDK's restJson1 protocol
 * reads the error name from that header and the message from the body
 * (@smithy/core protocols `loadRestJsonErrorCode`, @aws-sdk/core `AwsRestJsonProtocol.handleError`),
 * so `RDSDataClient` raises the modelled exception class with this `.name` and `.message`.
 *
 * Statuses are the API model's (`httpError` traits in @aws-sdk/client-rds-data's schemas, the same
 * as https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/CommonErrors.html).
 */
import type { DatabaseError } from 'pg';

export class DataApiError extends Error {
  constructor(
    /** The exception's name (`x-amzn-errortype`). */
    readonly type: string,
    readonly status: number,
    message: string | undefined,
    /** Further members of the error structure (e.g. `dbConnectionId`). */
    readonly members: Readonly<Record<string, unknown>> = {},
  ) {
    super(message ?? type);
    this.name = type;
    this.hasMessage = message !== undefined;
  }

  /** The server-fault errors (500, 503, 504) have no `message` member in the model. */
  readonly hasMessage: boolean;

  body(): Record<string, unknown> {
    return this.hasMessage ? { message: this.message, ...this.members } : { ...this.members };
  }
}

/**
 * Request shapes the service refuses before running anything. Aurora Serverless v2 and
 * provisioned clusters answer these as `ValidationException` ("Multistatements aren't supported.",
 * "The schema parameter isn't supported"):
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html
 * The SDK has no class for it and raises its base `RDSDataServiceException` with that `.name`.
 */
export const validation = (message: string) => new DataApiError('ValidationException', 400, message);

/**
 * A model length constraint, in the wording AWS services use for them ("1 validation error
 * detected: Value … at 'sql' failed to satisfy constraint: Member must have length less than or
 * equal to 65536"). Not seen from this service itself; the constraints are the model's.
 */
export function constraintViolation(member: string, constraint: string): DataApiError {
  return validation(
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

/** A body that is not JSON of the operation's shape (the restJson1 answer for unreadable input). */
export const serialization = (message: string) => new DataApiError('SerializationException', 400, message);

export const unknownOperation = (method: string, path: string) =>
  new DataApiError('UnknownOperationException', 404, `No operation for ${method} ${path}`);

/** Aurora Serverless v2 and provisioned clusters answer SQL failures as DatabaseErrorException. */
export const databaseError = (message: string) => new DataApiError('DatabaseErrorException', 400, message);

/**
 * PostgreSQL's error as the Data API flattens it into `message`:
 * `ERROR: <message>[; Hint: <hint>][; Position: <n>]; SQLState: <code>`. Strings captured from the
 * live service, e.g. `ERROR: relation "no_such_table_xyz" does not exist; Position: 15; SQLState:
 * 42P01` and `ERROR: operator does not exist: integer = text; Hint: No operator matches …;
 * Position: 36; SQLState: 42883`, carry no Detail line, nor does the v2 answer in
 * https://github.com/cloud-utils/aurora-data-api/issues/53 (`… violates foreign key constraint
 * "setlist_sheets_song_sheet_id_fkey" on table "setlist_sheets"; SQLState: 23503`).
 * A failed login keeps the server's severity except `database "x" does not exist`, which AWS
 * reports as `ERROR: database "USERNAME" does not exist; SQLState: 3D000`
 * (https://github.com/aws/aws-cli/issues/8577).
 */
export function fromPostgres(
  error: Pick<DatabaseError, 'message' | 'code' | 'hint' | 'position' | 'severity'>,
) {
  const severity = error.code === '3D000' ? 'ERROR' : (error.severity ?? 'ERROR');
  let text = `${severity}: ${error.message}`;
  if (error.hint) text += `; Hint: ${error.hint}`;
  if (error.position) text += `; Position: ${error.position}`;
  if (error.code) text += `; SQLState: ${error.code}`;
  return databaseError(text);
}

/** Whether `error` is one PostgreSQL sent (it has a SQLSTATE), not a socket or driver failure. */
export function isPostgresError(error: unknown): error is DatabaseError {
  return (
    error instanceof Error && typeof (error as { code?: unknown }).code === 'string' && 'severity' in error
  );
}

/**
 * Result problems: "It contained an unsupported data type. It contained a multidimensional array.
 * The size was too large." (UnsupportedResultException in the API reference).
 */
export const unsupportedResult = (message: string) =>
  new DataApiError('UnsupportedResultException', 400, message);

/**
 * "When a Data API encounters an unsupported data type, it returns this error–
 * `UnsupportedResultException: The result contains the unsupported data type data_type`."
 * (data-api.differences.html above). Live answers name the type as `"CHAR"` for PostgreSQL's
 * internal `"char"` and `regclass` as is; the stand-in names every other type by its `typname`.
 */
export const unsupportedType = (typeName: string) =>
  unsupportedResult(
    `The result contains the unsupported data type ${typeName === 'char' ? '"CHAR"' : typeName}.`,
  );

/** Wording observed from live Aurora: `UnsupportedResultException: The result exceeds the size limit 1 MB.` */
export const resultTooLarge = (limitBytes: number) =>
  unsupportedResult(`The result exceeds the size limit ${describeBytes(limitBytes)}.`);

/** Observed: `UnsupportedResultException: NaN and Infinity values are not supported`. */
export const notANumber = () => unsupportedResult('NaN and Infinity values are not supported');

/**
 * "The execution of the SQL statement timed out." The message is the one the service sends
 * (`Request timed out`, https://github.com/aws/aws-sdk-js/issues/3385); `dbConnectionId` is the
 * backend that ran it.
 */
export const statementTimeout = (dbConnectionId: number | undefined) =>
  new DataApiError(
    'StatementTimeoutException',
    400,
    'Request timed out',
    dbConnectionId === undefined ? {} : { dbConnectionId },
  );

/** Wording from the service: `Transaction <id> is not found` (https://github.com/cloud-utils/aurora-data-api/issues/27). */
export const transactionNotFound = (transactionId: string) =>
  new DataApiError('TransactionNotFoundException', 404, `Transaction ${transactionId} is not found`);

/**
 * "When the Data API receives multiple requests with the same transaction ID, it immediately
 * returns this error: `DatabaseErrorException: Transaction is still running a query`"
 * (data-api.differences.html above).
 */
export const transactionBusy = () => databaseError('Transaction is still running a query');

/**
 * A cluster at 0 ACU resuming. Wording of the service: "The Aurora DB instance arn:… is resuming
 * after being auto-paused. Please wait a few seconds and try again"
 * (https://github.com/aws-samples/bedrock-chat/pull/858).
 */
export const resuming = (arn: string) =>
  new DataApiError(
    'DatabaseResumingException',
    400,
    `The Aurora DB instance ${arn} is resuming after being auto-paused. Please wait a few seconds and try again.`,
  );

/**
 * What AWS answers for a cluster ARN it does not know: "An error occurred
 * (HttpEndpointNotEnabledException) when calling the ExecuteStatement operation: HttpEndpoint is not
 * enabled for resource arn:aws:rds:us-east-1:…:cluster:…" for a cluster that no longer existed.
 */
export const httpEndpointNotEnabled = (arn: string) =>
  new DataApiError('HttpEndpointNotEnabledException', 400, `HttpEndpoint is not enabled for resource ${arn}`);

export const accessDenied = (message: string) => new DataApiError('AccessDeniedException', 403, message);

/** The IAM refusals as the Data API answers them: AccessDeniedException and, for an expired
 * session's key, ExpiredTokenException (403 in the same common errors page). */
export const IAM_REFUSALS = {
  denied: { code: 'AccessDeniedException', status: 403 },
  expired: { code: 'ExpiredTokenException', status: 403 },
} as const;

/** An unsigned request: the stand-in cannot tell who calls, so it refuses (the wording is ours). */
export const forbidden = () => new DataApiError('ForbiddenException', 403, 'Missing Authentication Token');

/** "The secret provided wasn't found." is one of SecretsErrorException's documented causes; the wording is ours. */
export const secretNotFound = (secretArn: string) =>
  new DataApiError(
    'SecretsErrorException',
    400,
    `Secrets Manager can't find the specified secret ${secretArn}`,
  );

/** "The Secrets Manager secret used with the request isn't valid." The wording is ours. */
export const invalidSecret = (why: string) =>
  new DataApiError('InvalidSecretException', 400, `The secret used with the request isn't valid: ${why}`);

/** "The writer instance in the DB cluster isn't available." (504, no message member.) */
export const databaseUnavailable = () => new DataApiError('DatabaseUnavailableException', 504, undefined);

/**
 * 500 with no message. The service answers this way for a result holding an `infinity` timestamp
 * or date (observed by a client that proxies PostgreSQL clients over the Data API).
 */
export const internalServerError = () => new DataApiError('InternalServerErrorException', 500, undefined);

function describeBytes(bytes: number): string {
  const mib = 1024 * 1024;
  if (bytes % mib === 0) return `${bytes / mib} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}
