import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';

/**
 * Tenant-scoped AWS credentials: a session of the tenant-access role, assumed with the session
 * tag `TenantId=<tenant id>`. The role's policy lets a session read only the secret tagged with
 * its own tenant (`secretsmanager:ResourceTag/tenantry:tenant-id` equals
 * `${aws:PrincipalTag/TenantId}`), so a statement run with these credentials can reach that
 * tenant's database and no other, whatever the calling code asks for.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
 *
 * The tenant id must come from the verified, membership-checked request context (the caller of
 * `DatabaseClusters.asTenant`), never from the client.
 */
export const TENANT_SESSION_TAG = 'TenantId';

export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface TenantSessionsOptions {
  readonly sts: STSClient;
  /** The tenant-access role (`TENANT_ACCESS_ROLE_ARN`). */
  readonly roleArn: string;
  /**
   * A function's own credentials are a role session, so assuming another role is role chaining,
   * which caps the session at one hour ("Role chaining limits your … API role session to a
   * maximum of one hour"), and 900 s is the least AssumeRole accepts.
   * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
   * @default 3600
   */
  readonly durationSeconds?: number;
  /** Credentials are renewed this long before they expire. @default 5 minutes */
  readonly renewBeforeMs?: number;
  /** How many tenants' sessions a warm function keeps. @default 256 */
  readonly maxTenants?: number;
  readonly now?: () => number;
}

interface Cached {
  readonly credentials: Promise<SessionCredentials>;
  /** Known once the session is in hand. */
  expiresAt?: number;
}

/** Per-tenant sessions, each cached in the warm function until shortly before it expires. */
export class TenantSessions {
  readonly #options: Required<Omit<TenantSessionsOptions, 'sts' | 'roleArn'>> &
    Pick<TenantSessionsOptions, 'sts' | 'roleArn'>;
  /** In least-recently-used order (a Map keeps insertion order; a hit moves to the end). */
  readonly #byTenant = new Map<string, Cached>();
  #assumed = 0;

  constructor(options: TenantSessionsOptions) {
    this.#options = {
      durationSeconds: 3600,
      renewBeforeMs: 5 * 60_000,
      maxTenants: 256,
      now: Date.now,
      ...options,
    };
  }

  /** How many AssumeRole calls this instance made (the benchmark and tests read it). */
  get assumed(): number {
    return this.#assumed;
  }

  /** The tenant's session credentials: cached, or a new session (one call for concurrent askers). */
  credentialsFor(tenantId: string): Promise<SessionCredentials> {
    const now = this.#options.now();
    const cached = this.#byTenant.get(tenantId);
    if (cached && (cached.expiresAt === undefined || cached.expiresAt - this.#options.renewBeforeMs > now)) {
      this.#byTenant.delete(tenantId);
      this.#byTenant.set(tenantId, cached);
      return cached.credentials;
    }
    const entry: Cached = { credentials: this.#assume(tenantId) };
    this.#byTenant.delete(tenantId);
    this.#byTenant.set(tenantId, entry);
    entry.credentials.then(
      (credentials) => {
        entry.expiresAt = credentials.expiration.getTime();
      },
      () => {
        // A failed AssumeRole is not cached: the next request asks again.
        if (this.#byTenant.get(tenantId) === entry) this.#byTenant.delete(tenantId);
      },
    );
    while (this.#byTenant.size > this.#options.maxTenants) {
      const oldest = this.#byTenant.keys().next().value;
      if (oldest === undefined) break;
      this.#byTenant.delete(oldest);
    }
    return entry.credentials;
  }

  async #assume(tenantId: string): Promise<SessionCredentials> {
    this.#assumed += 1;
    const answer = await this.#options.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.#options.roleArn,
        // Session names show in CloudTrail: the tenant id says whose data the session reached.
        RoleSessionName: tenantId,
        DurationSeconds: this.#options.durationSeconds,
        Tags: [{ Key: TENANT_SESSION_TAG, Value: tenantId }],
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error('AssumeRole answered without credentials');
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }
}
