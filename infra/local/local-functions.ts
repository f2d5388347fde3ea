/**
 * Names and ARNs of the local functions, as the local Lambda stand-ins, the bus and the state
 * machine call them: one Lambda function per entry under `functions/`.
 */

export const REGION = 'us-east-1';
/** The account of every local ARN. */
export const LOCAL_ACCOUNT = '000000000000';

/** `events/record-audit` → `tenantry-local-events-record-audit`. */
export const localFunctionName = (entry: string) => `tenantry-local-${entry.replace(/\//g, '-')}`;

export const localFunctionArn = (entry: string) =>
  `arn:aws:lambda:${REGION}:${LOCAL_ACCOUNT}:function:${localFunctionName(entry)}`;
