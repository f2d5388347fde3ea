import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { expect } from 'vitest';
import { LOOPBACK } from '#infra/local/engines/ports';
import { type SecretsManagerHandle, startSecretsManager } from '#infra/local/engines/secrets-manager';
import type { Authorize } from '#infra/local/iam/access';

/** A stand-in on a free loopback port in its own temp folder, with a clock the test moves. */
export interface StandIn {
  readonly dataDir: string;
  handle: SecretsManagerHandle;
  client: SecretsManagerClient;
  clock: { now: Date };
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startStandIn(
  options: { authorize?: Authorize; accessKeyId?: string } = {},
): Promise<StandIn> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'tenantry-sm-'));
  const clock = { now: new Date('2030-01-01T00:00:00.000Z') };
  const start = () =>
    startSecretsManager({
      dataDir,
      host: LOOPBACK,
      port: 0,
      authorize: options.authorize,
      now: () => clock.now,
    });
  const handle = await start();
  const standIn: StandIn = {
    dataDir,
    handle,
    client: clientFor(handle.endpoint, options.accessKeyId),
    clock,
    async restart() {
      standIn.client.destroy();
      await standIn.handle.stop();
      standIn.handle = await start();
      standIn.client = clientFor(standIn.handle.endpoint, options.accessKeyId);
    },
    async close() {
      standIn.client.destroy();
      await standIn.handle.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return standIn;
}

/** The real SDK client, as the AWS adapter builds it, pointed at the stand-in. No retries: a
 * retried 500 would hide what the stand-in answered. */
export function clientFor(endpoint: string, accessKeyId = 'AKIALOCALTEST'): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** The error the SDK raised: its class is SecretsManagerServiceException (or a subclass), its
 * `name` the AWS error code, its `message` AWS's text, its HTTP status 400. */
export async function sdkError(promise: Promise<unknown>): Promise<SecretsManagerServiceException> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'the call should have failed').toBeInstanceOf(SecretsManagerServiceException);
  return error as SecretsManagerServiceException;
}

export const ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:';

/** `<prefix><name>-<six random characters>`, as AWS builds a secret's ARN. */
export function arnPattern(name: string): RegExp {
  return new RegExp(`^${ARN_PREFIX}${name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}-[A-Za-z0-9]{6}$`);
}
