/**
 * The control database schema, as ordered, append-only migrations. Never edit one that has
 * shipped: add the next. Constraints (unique, foreign keys, checks) do the integrity work.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export const controlMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'identity and tenants',
    statements: [
      `create table tenants (
        id text primary key check (id ~ '^t_[a-z2-7]{20}$'),
        name text not null check (length(name) between 1 and 120),
        status text not null check (status in ('provisioning', 'active', 'suspended', 'deleting', 'deleted', 'failed')),
        status_reason text,
        settings jsonb not null default '{}'::jsonb,
        enabled_modules jsonb not null default '[]'::jsonb,
        created_by text not null,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      'create index tenants_created_idx on tenants (created_at, id)',
      `create table users (
        id text primary key,
        email text not null,
        active_tenant_id text references tenants (id) on delete set null,
        created_at timestamptz not null default now()
      )`,
      'create unique index users_email_key on users (lower(email))',
      `create table memberships (
        tenant_id text not null references tenants (id) on delete cascade,
        user_id text not null references users (id) on delete cascade,
        role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
        created_at timestamptz not null default now(),
        primary key (tenant_id, user_id)
      )`,
      'create index memberships_user_idx on memberships (user_id)',
      `create table custom_roles (
        id text primary key,
        tenant_id text not null references tenants (id) on delete cascade,
        name text not null check (length(name) between 1 and 64),
        permissions jsonb not null check (jsonb_typeof(permissions) = 'array'),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        unique (tenant_id, id)
      )`,
      'create unique index custom_roles_name_key on custom_roles (tenant_id, lower(name))',
      `create table role_assignments (
        tenant_id text not null,
        user_id text not null,
        role_id text not null,
        created_at timestamptz not null default now(),
        primary key (tenant_id, user_id, role_id),
        foreign key (tenant_id, user_id) references memberships (tenant_id, user_id) on delete cascade,
        foreign key (tenant_id, role_id) references custom_roles (tenant_id, id) on delete cascade
      )`,
    ],
  },
  {
    version: 2,
    name: 'tenant databases and their placement',
    statements: [
      `create table tenant_databases (
        id text primary key check (id ~ '^d_[a-z2-7]{16}$'),
        tenant_id text not null references tenants (id) on delete cascade,
        label text not null check (label ~ '^[a-z][a-z0-9_-]{0,39}$'),
        is_primary boolean not null default false,
        status text not null check (status in ('provisioning', 'active', 'deleting', 'deleted', 'failed')),
        status_reason text,
        cluster_id text,
        database_name text not null unique,
        role_name text not null,
        secret_arn text,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create unique index tenant_databases_label_key on tenant_databases (tenant_id, label) where status <> 'deleted'`,
      `create unique index tenant_databases_primary_key on tenant_databases (tenant_id) where is_primary and status <> 'deleted'`,
      'create index tenant_databases_tenant_idx on tenant_databases (tenant_id, created_at, id)',
    ],
  },
  {
    version: 3,
    name: 'modules per tenant database and module upgrades',
    statements: [
      // Which module is enabled in which database, at which schema version. The tenant database's
      // own tenantry_migrations says what was applied there; this is the control plane's index of
      // it, so that an upgrade finds every database that has a module without opening them all.
      `create table database_modules (
        database_id text not null references tenant_databases (id) on delete cascade,
        tenant_id text not null references tenants (id) on delete cascade,
        module_id text not null check (module_id ~ '^[a-z][a-z0-9_-]{0,39}$'),
        version integer not null check (version >= 1),
        enabled boolean not null default true,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (database_id, module_id)
      )`,
      'create index database_modules_module_idx on database_modules (module_id, version) where enabled',
      'create index database_modules_tenant_idx on database_modules (tenant_id)',
      `create table module_upgrades (
        id text primary key check (id ~ '^u_[a-z2-7]{16}$'),
        module_id text not null,
        to_version integer not null check (to_version >= 1),
        wave_size integer not null check (wave_size between 1 and 1000),
        status text not null check (status in ('running', 'completed')),
        created_by text not null,
        created_at timestamptz not null default now(),
        finished_at timestamptz
      )`,
      'create index module_upgrades_module_idx on module_upgrades (module_id, created_at, id)',
      `create table module_upgrade_targets (
        upgrade_id text not null references module_upgrades (id) on delete cascade,
        database_id text not null,
        tenant_id text not null,
        wave integer not null check (wave >= 0),
        from_version integer not null,
        status text not null check (status in ('pending', 'upgraded', 'failed')),
        error text,
        finished_at timestamptz,
        primary key (upgrade_id, database_id)
      )`,
      'create index module_upgrade_targets_wave_idx on module_upgrade_targets (upgrade_id, wave, database_id)',
    ],
  },
  {
    version: 4,
    name: 'idempotent tenant registration',
    statements: [
      `create table tenant_registrations (
        user_id text not null,
        idempotency_key text not null check (idempotency_key ~ '^[A-Za-z0-9_-]{1,100}$'),
        tenant_id text not null references tenants (id) on delete cascade,
        created_at timestamptz not null default now(),
        primary key (user_id, idempotency_key)
      )`,
    ],
  },
  {
    version: 5,
    name: 'invitations pending consent',
    statements: [
      // An invitation is pending until its invitee accepts or declines, or a member revokes it.
      // Expiry is not a status: a pending row whose expires_at has passed is expired, so no job
      // has to sweep them and the database's clock is the only one that decides.
      `create table invitations (
        id text primary key check (id ~ '^i_[a-z2-7]{20}$'),
        tenant_id text not null references tenants (id) on delete cascade,
        email text not null check (length(email) between 3 and 254),
        role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
        status text not null check (status in ('pending', 'accepted', 'declined', 'revoked')),
        invited_by text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        decided_at timestamptz,
        check (expires_at > created_at)
      )`,
      // One pending invitation per tenant and email: inviting again refreshes it.
      `create unique index invitations_pending_key on invitations (tenant_id, lower(email)) where status = 'pending'`,
      `create index invitations_email_idx on invitations (lower(email), created_at, id) where status = 'pending'`,
      'create index invitations_tenant_idx on invitations (tenant_id, created_at, id)',
    ],
  },
  {
    version: 6,
    name: 'no tenant role may open the control database',
    statements: [
      // Every role may CONNECT to a new database (PUBLIC holds it), and nothing in AWS took it
      // back: a tenant role, logging in with its own secret, could open the control database.
      // Its owner (the master) revokes it; its own CONNECT comes from ownership.
      // https://www.postgresql.org/docs/current/ddl-priv.html (default privileges of PUBLIC)
      `do $$ begin execute format('revoke connect, temporary on database %I from public', current_database()); end $$`,
    ],
  },
  {
    version: 7,
    name: 'idempotency keys of every creating route',
    statements: [
      // One row per caller and Idempotency-Key (shared/control/idempotency-records.ts,
      // docs/retry-safe-writes.md): the request the key names, the attempt that holds it (until
      // lease_until), and once finished the answer to give again. An expired row is deleted, never
      // updated into a new one, so a token names one request for its whole life.
      `create table idempotency_records (
        user_id text not null,
        idempotency_key text not null check (idempotency_key ~ '^[A-Za-z0-9_-]{1,100}$'),
        operation_id text not null check (length(operation_id) between 1 and 64),
        fingerprint text not null check (fingerprint ~ '^[0-9a-f]{64}$'),
        token uuid not null unique,
        attempt integer not null check (attempt >= 1),
        state text not null check (state in ('in_progress', 'completed')),
        started_at timestamptz not null,
        lease_until timestamptz,
        status_code integer check (status_code between 200 and 499),
        response_headers jsonb,
        completed_at timestamptz,
        created_at timestamptz not null,
        expires_at timestamptz not null,
        primary key (user_id, idempotency_key),
        check ((state = 'in_progress') = (lease_until is not null)),
        check ((state = 'completed') = (status_code is not null and response_headers is not null and completed_at is not null)),
        check (expires_at > created_at)
      )`,
      'create index idempotency_records_expiry_idx on idempotency_records (expires_at)',
      // The answer's body, in parts: the Data API refuses a result row over 64 KB, and a body (a
      // row, a table's description) can be larger.
      `create table idempotency_response_parts (
        token uuid not null references idempotency_records (token) on delete cascade,
        part integer not null check (part >= 0),
        chunk text not null,
        primary key (token, part)
      )`,
    ],
  },
  {
    version: 8,
    name: 'a plan per tenant',
    statements: [
      // The tenant's plan (shared/domain/plans.ts) and its own limits on top. The plan's name is
      // checked here; whether the catalogue has it is the application's (a catalogue is
      // configuration and may change), which counts an unknown plan as the default one.
      `alter table tenants add column plan text not null default 'free' check (plan ~ '^[a-z][a-z0-9-]{0,31}$')`,
      `alter table tenants add column plan_overrides jsonb not null default '{}'::jsonb check (jsonb_typeof(plan_overrides) = 'object')`,
    ],
  },
  {
    version: 9,
    name: 'quota thresholds reached',
    statements: [
      // One row per tenant, limit, threshold (80, 100) and period (`limit=<n>` for a counted
      // resource, the month for a monthly one): the claim that its Quota Threshold Reached event was
      // published, so a threshold is announced once per period (shared/tenancy/quota-thresholds.ts).
      `create table quota_thresholds (
        tenant_id text not null references tenants (id) on delete cascade,
        quota text not null check (quota ~ '^[a-zA-Z]{1,32}$'),
        threshold integer not null check (threshold in (80, 100)),
        period text not null check (length(period) between 1 and 64),
        reached_at timestamptz not null default now(),
        primary key (tenant_id, quota, threshold, period)
      )`,
    ],
  },
  {
    version: 10,
    name: 'tenant hierarchies',
    statements: [
      // A tenant may have a parent (docs/tenant-hierarchies.md). `path` is the ids from the root
      // down to the tenant itself, joined by '/': one row says who its ancestors are, so an access
      // check reads them without a query per level, and a subtree is one prefix scan. Offboarded
      // tenants keep their place, so that their usage still rolls up to their organisation.
      'alter table tenants add column parent_id text references tenants (id)',
      'alter table tenants add column path text',
      'update tenants set path = id',
      'alter table tenants alter column path set not null',
      `alter table tenants add constraint tenants_path_check
         check (path ~ '^(t_[a-z2-7]{20}/)*t_[a-z2-7]{20}$' and right(path, 22) = id
                and (parent_id is null) = (path = id)
                and (parent_id is null or right(path, 45) = parent_id || '/' || id))`,
      // Whether roles held in the ancestors apply here (and below): owners may cut it.
      'alter table tenants add column inherit_access boolean not null default true',
      'create index tenants_parent_idx on tenants (parent_id, created_at, id) where parent_id is not null',
      'create index tenants_path_idx on tenants (path text_pattern_ops)',
    ],
  },
  {
    version: 11,
    name: 'per-tenant backups',
    statements: [
      // A database being restored from a backup is `restoring` until its rows are loaded and
      // verified (docs/backups.md); it remembers which backup and source database it came from.
      'alter table tenant_databases drop constraint tenant_databases_status_check',
      `alter table tenant_databases add constraint tenant_databases_status_check
         check (status in ('provisioning', 'restoring', 'active', 'deleting', 'deleted', 'failed'))`,
      `create table backups (
        id text primary key check (id ~ '^b_[a-z2-7]{16}$'),
        tenant_id text not null references tenants (id) on delete cascade,
        status text not null check (status in ('running', 'completed', 'failed')),
        trigger text not null check (trigger in ('request', 'schedule', 'clone')),
        -- The databases asked for; null for all of them (as many as the tenant has when it runs).
        database_ids jsonb check (database_ids is null or jsonb_typeof(database_ids) = 'array'),
        requested_by text,
        started_at timestamptz not null default now(),
        completed_at timestamptz,
        reason text check (length(reason) <= 2000),
        -- What the API shows of the manifest (databases, tables with rows, bytes and sha256,
        -- settings, modules, roles); the whole one, with DDL and parts, is in the backup store.
        manifest jsonb check (manifest is null or jsonb_typeof(manifest) = 'object'),
        bytes bigint check (bytes >= 0),
        expires_at timestamptz,
        -- Set when retention (or offboarding) deleted its objects; the row stays as history.
        deleted_at timestamptz,
        check ((status = 'completed') = (manifest is not null and completed_at is not null)),
        check (status <> 'failed' or (reason is not null and completed_at is not null))
      )`,
      'create index backups_tenant_idx on backups (tenant_id, started_at desc, id desc) where deleted_at is null',
      `create index backups_expiry_idx on backups (expires_at) where deleted_at is null and expires_at is not null`,
      // One backup of a tenant at a time, asked for or scheduled (a clone takes its own).
      `create unique index backups_running_key on backups (tenant_id)
         where status = 'running' and trigger in ('request', 'schedule')`,
      `alter table tenant_databases add column restored_from_backup text references backups (id)`,
      'alter table tenant_databases add column restored_from_database text',
      `alter table tenant_databases add constraint tenant_databases_restored_check
         check ((restored_from_backup is null) = (restored_from_database is null))`,
    ],
  },
  {
    version: 12,
    name: 'tenant clones',
    statements: [
      // The backup a clone is made from names the clone and what it copies (docs/backups.md): the
      // source's history says which tenants were cloned from it, and a retried request or workflow
      // finds its input here.
      'alter table backups add column clone_tenant_id text references tenants (id)',
      `alter table backups add column clone_include jsonb
         check (clone_include is null or jsonb_typeof(clone_include) = 'array')`,
      `alter table backups add constraint backups_clone_check
         check ((trigger = 'clone') = (clone_tenant_id is not null and clone_include is not null))`,
      'create unique index backups_clone_key on backups (clone_tenant_id) where clone_tenant_id is not null',
    ],
  },
  {
    version: 13,
    name: 'pooled tenants',
    statements: [
      // A tenant is `silo` (a database of its own per tenant database) or `pool` (a schema of its
      // own per tenant database, inside its cluster's shared pool database): docs/isolation-modes.md.
      `alter table tenants add column isolation text not null default 'silo'
         check (isolation in ('silo', 'pool'))`,
      // A pooled database is the schema `schema_name` inside the database `database_name`, which
      // it shares with the cluster's other pooled databases: only silo names stay unique.
      'alter table tenant_databases add column schema_name text',
      'alter table tenant_databases drop constraint tenant_databases_database_name_key',
      `create unique index tenant_databases_database_key on tenant_databases (database_name)
         where schema_name is null`,
      `create unique index tenant_databases_schema_key on tenant_databases (schema_name)
         where schema_name is not null`,
    ],
  },
  {
    version: 14,
    name: 'cluster registry and placement pins',
    statements: [
      // The deployment's database clusters (docs/clusters.md): the control migrator inserts and
      // updates them from the configuration (ClusterRegistry.sync); `state` is the platform
      // admins' (open: new databases may go there; draining: none new; closed: none, and no pin).
      `create table clusters (
        id text primary key check (id ~ '^[a-z][a-z0-9]{0,11}$'),
        name text not null check (length(name) between 1 and 64),
        state text not null default 'open' check (state in ('open', 'draining', 'closed')),
        capacity integer not null check (capacity between 0 and 100000),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      // The clusters databases were placed on before the registry existed (the one, 'primary'):
      // recorded, so that every placement can name a registered cluster from now on.
      `insert into clusters (id, name, capacity)
         select distinct cluster_id, cluster_id, 500 from tenant_databases where cluster_id is not null
         on conflict (id) do nothing`,
      'alter table tenant_databases add constraint tenant_databases_cluster_fkey foreign key (cluster_id) references clusters (id)',
      'create index tenant_databases_cluster_idx on tenant_databases (cluster_id) where cluster_id is not null',
      // A platform admin's pin: the tenant's future databases go to this cluster (shared/tenancy/placement.ts).
      'alter table tenants add column pinned_cluster_id text references clusters (id)',
    ],
  },
  {
    version: 15,
    name: 'database moves',
    statements: [
      // One row per database of a move (docs/isolation-modes.md, "Moves"): where it was and where it
      // goes, the move's phase and the counts and checksums that verified the copy. The source's
      // placement is kept so a rollback, and the drop after the switch, know it whatever the
      // database's record says by then.
      `create table database_moves (
        move_id text not null check (move_id ~ '^m_[a-z2-7]{16}$'),
        database_id text not null references tenant_databases (id) on delete cascade,
        tenant_id text not null references tenants (id) on delete cascade,
        from_cluster_id text not null references clusters (id),
        from_database_name text not null,
        from_schema_name text,
        from_secret_arn text,
        to_cluster_id text not null references clusters (id),
        to_isolation text not null check (to_isolation in ('silo', 'pool')),
        to_database_name text not null,
        to_schema_name text,
        to_secret_arn text,
        phase text not null default 'copying'
          check (phase in ('copying', 'frozen', 'switched', 'completed', 'failed')),
        reason text,
        verification jsonb,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (move_id, database_id)
      )`,
      // One live move (copying or frozen) per database.
      `create unique index database_moves_live_key on database_moves (database_id)
         where phase in ('copying', 'frozen')`,
      'create index database_moves_tenant_idx on database_moves (tenant_id, created_at)',
    ],
  },
  {
    version: 16,
    name: 'last sign-in of users',
    statements: [
      // Written by the pre-token-generation trigger on each sign-in (not on a token refresh), read
      // by the compliance report's inactive-admin check (docs/compliance.md). Null: not signed in
      // since the column exists.
      'alter table users add column last_sign_in_at timestamptz',
    ],
  },
  {
    version: 17,
    name: 'offboarding certificates',
    statements: [
      // What offboarding deleted and how each absence was verified (docs/tenant-lifecycle.md,
      // "Offboarding certificate"); the owners at offboarding may read it for 30 days.
      `create table offboarding_certificates (
        tenant_id text primary key references tenants (id),
        former_owners jsonb not null,
        started_at timestamptz not null default now(),
        offboarded_at timestamptz
      )`,
      `create table offboarding_resources (
        tenant_id text not null references offboarding_certificates (tenant_id),
        type text not null check (type in ('database', 'role', 'secret', 'backup', 'exports')),
        resource_id text not null,
        target jsonb not null,
        deleted_at timestamptz not null,
        verified_at timestamptz,
        verification jsonb,
        primary key (tenant_id, type, resource_id)
      )`,
    ],
  },
];
