/**
 * The RDS Data API's limits, as the stand-in enforces them. Each default is the documented value;
 * tests pass smaller ones through `startDataApi({ limits })` to reach the edges quickly.
 */
export interface DataApiLimits {
  /**
   * Largest response body, in bytes. "The response size limit is 1 MiB. If the call returns more
   * than 1 MiB of response data, the call is terminated."
   * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html
   * Measured here as the UTF-8 length of the JSON response body.
   */
  readonly responseBytes: number;
  /**
   * Largest row of a result set, in bytes: "The Data API size limit is 64 KB per row in the result
   * set returned by the database." (same page). Measured here as the UTF-8 length of the row's
   * fields serialised as JSON (`[{"stringValue":"…"},…]`).
   */
  readonly rowBytes: number;
  /**
   * Largest `formattedRecords` string: "The size limit for this field is currently 10 MB."
   * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html
   * With the 1 MiB response limit in force this one is only reached when a test raises that.
   */
  readonly formattedRecordsBytes: number;
  /**
   * Longest `sql`, in characters: the API model's `SqlStatement` shape has `max: 65536`
   * (botocore data/rds-data/2018-08-01/service-2.json, the model the SDKs are generated from).
   */
  readonly sqlLength: number;
  /**
   * Largest request, in bytes: "the maximum size of the HTTP request submitted through the Data
   * API is 4 MiB" (BatchExecuteStatement,
   * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BatchExecuteStatement.html).
   * Measured here on the body only (AWS counts the headers too).
   */
  readonly requestBytes: number;
  /**
   * "By default, the Data API cancels an operation and returns a timeout error if the operation
   * doesn't finish processing within 45 seconds."
   * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html
   */
  readonly statementTimeoutMs: number;
  /**
   * "A transaction times out if no calls use its transaction ID in three minutes." and "A
   * transaction can run for a maximum of 24 hours."
   * https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html
   */
  readonly transactionIdleMs: number;
  readonly transactionMaxMs: number;
  /** How often abandoned transactions are looked for (not an AWS number; they also end on next use). */
  readonly sweepIntervalMs: number;
  /** Connections kept per (user, database, password); not an AWS number. */
  readonly poolMax: number;
  /** How long an idle pooled connection is kept; short, so DROP DATABASE is rarely blocked. */
  readonly poolIdleMs: number;
}

const MIB = 1024 * 1024;

export const DEFAULT_DATA_API_LIMITS: DataApiLimits = {
  responseBytes: MIB,
  rowBytes: 64 * 1024,
  formattedRecordsBytes: 10 * MIB,
  sqlLength: 65_536,
  requestBytes: 4 * MIB,
  statementTimeoutMs: 45_000,
  transactionIdleMs: 3 * 60_000,
  transactionMaxMs: 24 * 60 * 60_000,
  sweepIntervalMs: 10_000,
  poolMax: 10,
  poolIdleMs: 5_000,
};

export function dataApiLimits(overrides: Partial<DataApiLimits> = {}): DataApiLimits {
  return { ...DEFAULT_DATA_API_LIMITS, ...overrides };
}
