import { type AwsClients, clientOptions } from '#shared/composition/aws-clients';
import { lazyPort } from '#shared/composition/lazy';
import { ConfigError } from '#shared/errors';
import type { BackupStore } from '#shared/ports/backup-store';

/**
 * The backup store of a function's configuration (the `backupStore` need): the exports bucket's
 * `backups/` in AWS (`BACKUPS_BUCKET_NAME`, every object encrypted with `BACKUPS_KEY_ARN`), the
 * folder `BACKUPS_DIR` on the local platform. Made, and its modules imported, on first use.
 */
export function backupStoreFrom(
  env: Readonly<Record<string, string | undefined>>,
  clients: AwsClients = {},
): BackupStore {
  const bucket = env.BACKUPS_BUCKET_NAME;
  const dir = env.BACKUPS_DIR;
  if (bucket) {
    const keyArn = env.BACKUPS_KEY_ARN;
    if (!keyArn) {
      // Without the key S3 would encrypt with aws/s3, which no policy of ours scopes.
      throw new ConfigError('Invalid configuration: BACKUPS_KEY_ARN: missing', ['BACKUPS_KEY_ARN']);
    }
    return lazyPort(async () => {
      const [{ S3Client }, { S3BackupStore }] = await Promise.all([
        import('@aws-sdk/client-s3'),
        import('#shared/adapters/s3-backup-store'),
      ]);
      return new S3BackupStore(new S3Client(clientOptions(clients, 's3')), bucket, keyArn);
    });
  }
  if (dir) {
    return lazyPort(
      async () => new (await import('#shared/adapters/file-backup-store')).FileBackupStore(dir),
    );
  }
  throw new ConfigError('Invalid configuration: BACKUPS_BUCKET_NAME: missing', ['BACKUPS_BUCKET_NAME']);
}
