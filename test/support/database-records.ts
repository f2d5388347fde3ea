import type { TenantDatabaseRecord } from '#shared/control/database-registry';

/** A tenant database record as the control database holds it, with the fields a test cares about. */
export function tenantDatabaseRecord(fields: Partial<TenantDatabaseRecord> = {}): TenantDatabaseRecord {
  return {
    id: 'db-1',
    tenantId: 't-1',
    label: 'main',
    isPrimary: false,
    status: 'active',
    statusReason: null,
    clusterId: 'primary',
    databaseName: 'tenant_db_1',
    schemaName: null,
    roleName: 'tenant_role_1',
    secretArn: 'arn:secret',
    restoredFrom: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
}
