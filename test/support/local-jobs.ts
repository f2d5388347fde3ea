import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { localFunctionName } from '#infra/local/local-functions';
import type { PlatformInfo } from '#infra/local/platform-info';

/**
 * Invokes a function on the local platform's Lambda endpoint, as EventBridge Scheduler or an
 * operator would (its own role judges what it does), and answers its error, if any, and its result.
 */
export async function invokeLocalFunction(
  info: PlatformInfo,
  entry: string,
  payload?: unknown,
): Promise<{ error: string | undefined; body: unknown }> {
  const lambda = new LambdaClient({
    region: info.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: info.endpoints.lambda,
    maxAttempts: 1,
  });
  const answer = await lambda
    .send(
      new InvokeCommand({
        FunctionName: localFunctionName(entry),
        ...(payload === undefined ? {} : { Payload: Buffer.from(JSON.stringify(payload)) }),
      }),
    )
    .finally(() => lambda.destroy());
  return {
    error: answer.FunctionError,
    body: JSON.parse(Buffer.from(answer.Payload ?? []).toString('utf8')),
  };
}
