import { PgSqlRunner } from '#shared/adapters/pg-sql';
import { type DatabaseClusters, UnknownCluster } from '#shared/ports/clusters';
import type { SecretStore } from '#shared/ports/secrets';
import type { SqlRunner } from '#shared/ports/sql';

export interface LocalClusterOptions {
  readonly host: string;
  readonly port: number;
  readonly masterUser: string;
  readonly masterPassword: string;
}

/**
 * The local "Aurora cluster": the embedded PostgreSQL server. Tenant statements connect as the
 * tenant's own role with the password from its secret, as the Data API does with the secret ARN.
 */
export class LocalClusters implements DatabaseClusters {
  static readonly CLUSTER_ID = 'primary';
  readonly #admin: PgSqlRunner;
  readonly #tenantPools = new Map<string, PgSqlRunner>();

  constructor(
    private readonly options: LocalClusterOptions,
    private readonly secrets: SecretStore,
  ) {
    this.#admin = new PgSqlRunner({
      host: options.host,
      port: options.port,
      user: options.masterUser,
      password: options.masterPassword,
      database: 'postgres',
      max: 4,
    });
  }

  ids(): readonly string[] {
    return [LocalClusters.CLUSTER_ID];
  }

  admin(clusterId: string): SqlRunner {
    if (clusterId !== LocalClusters.CLUSTER_ID) throw new UnknownCluster(clusterId);
    return this.#admin;
  }

  async asTenant(clusterId: string, database: string, secretArn: string): Promise<SqlRunner> {
    if (clusterId !== LocalClusters.CLUSTER_ID) throw new UnknownCluster(clusterId);
    const key = `${database}|${secretArn}`;
    let runner = this.#tenantPools.get(key);
    if (!runner) {
      const { username, password } = JSON.parse(await this.secrets.getSecretValue(secretArn)) as {
        username: string;
        password: string;
      };
      runner = new PgSqlRunner({
        host: this.options.host,
        port: this.options.port,
        user: username,
        password,
        database,
        max: 5,
        // Tenant pools are many and mostly idle: give connection slots back quickly.
        idleTimeoutMillis: 2_000,
      });
      this.#tenantPools.set(key, runner);
    }
    return runner;
  }

  async release(database: string): Promise<void> {
    for (const [key, runner] of this.#tenantPools) {
      if (key.startsWith(`${database}|`)) {
        this.#tenantPools.delete(key);
        await runner.close();
      }
    }
  }

  async close(): Promise<void> {
    for (const runner of this.#tenantPools.values()) await runner.close();
    this.#tenantPools.clear();
    await this.#admin.close();
  }
}
