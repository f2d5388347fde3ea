import { type SqlRunner, sqlJson } from '#shared/ports/sql';

/** What offboarding deletes, each listed in its tenant's certificate. */
export const OFFBOARDED_RESOURCE_TYPES = ['database', 'role', 'secret', 'backup', 'exports'] as const;
export type OffboardedResourceType = (typeof OFFBOARDED_RESOURCE_TYPES)[number];

/** How an absence was checked, and what the check answered. */
export interface Verification {
  readonly method: string;
  readonly evidence: string;
}

/** A resource offboarding deleted: what to look at to verify it is gone (`target`, internal). */
export interface OffboardedResource {
  readonly type: OffboardedResourceType;
  readonly id: string;
  readonly target: Record<string, unknown>;
  readonly deletedAt: string;
  readonly verifiedAt: string | null;
  readonly verification: Verification | null;
}

export interface OffboardingCertificate {
  readonly tenantId: string;
  /** The tenant's owners when offboarding began (their memberships are gone since). */
  readonly formerOwners: readonly string[];
  /** When the tenant became `deleted`; null while offboarding runs. */
  readonly offboardedAt: string | null;
  readonly resources: readonly OffboardedResource[];
}

/**
 * The offboarding certificates in the control database (migration 17). Every write is an upsert
 * keyed by the tenant (and the resource), so a re-run of the saga adds nothing twice: the first
 * run's owners, deletion times and completion stay; only a missing verification is filled in.
 */
export class OffboardingCertificates {
  constructor(private readonly sql: SqlRunner) {}

  /** Opens the tenant's certificate with its owners now, before anything is deleted; a re-run keeps the first. */
  async begin(tenantId: string): Promise<void> {
    await this.sql.execute(
      `insert into offboarding_certificates (tenant_id, former_owners)
         select :tenantId, coalesce(jsonb_agg(user_id order by user_id), '[]'::jsonb)
           from memberships where tenant_id = :tenantId and role = 'owner'
       on conflict (tenant_id) do nothing`,
      { tenantId },
    );
  }

  /** Records a resource as deleted now (a re-run keeps the first time). */
  async deleted(
    tenantId: string,
    resource: { type: OffboardedResourceType; id: string; target: Record<string, unknown> },
  ): Promise<void> {
    await this.sql.execute(
      `insert into offboarding_resources (tenant_id, type, resource_id, target, deleted_at)
         values (:tenantId, :type, :id, :target::jsonb, now())
       on conflict (tenant_id, type, resource_id) do nothing`,
      { tenantId, type: resource.type, id: resource.id, target: sqlJson(resource.target) },
    );
  }

  async verified(
    tenantId: string,
    resource: { type: OffboardedResourceType; id: string },
    verification: Verification,
  ): Promise<void> {
    await this.sql.execute(
      `update offboarding_resources set verified_at = coalesce(verified_at, now()),
              verification = coalesce(verification, :verification::jsonb)
        where tenant_id = :tenantId and type = :type and resource_id = :id`,
      { tenantId, type: resource.type, id: resource.id, verification: sqlJson(verification) },
    );
  }

  /** Marks the certificate complete: the tenant is offboarded (a re-run keeps the first time). */
  async complete(tenantId: string): Promise<void> {
    await this.sql.execute(
      `update offboarding_certificates set offboarded_at = coalesce(offboarded_at, now())
        where tenant_id = :tenantId`,
      { tenantId },
    );
  }

  /** The tenant's certificate, complete or not; null when its offboarding never began. */
  async get(tenantId: string): Promise<OffboardingCertificate | null> {
    const [head] = await this.sql.query<{ formerOwners: string[]; offboardedAt: string | null }>(
      `select former_owners as "formerOwners", offboarded_at as "offboardedAt"
         from offboarding_certificates where tenant_id = :tenantId`,
      { tenantId },
    );
    if (!head) return null;
    const resources = await this.sql.query<OffboardedResource & Record<string, unknown>>(
      `select type, resource_id as id, target, deleted_at as "deletedAt", verified_at as "verifiedAt",
              verification
         from offboarding_resources where tenant_id = :tenantId
        order by array_position(array['database', 'role', 'secret', 'backup', 'exports'], type), deleted_at, resource_id`,
      { tenantId },
    );
    return { tenantId, formerOwners: head.formerOwners, offboardedAt: head.offboardedAt, resources };
  }
}
