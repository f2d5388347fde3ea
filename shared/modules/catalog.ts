import type { TenantSettings } from '#shared/tenancy/settings';

/**
 * Ready-made modules, as data: their tables (columns, foreign keys, indexes) come from versioned
 * migrations, their dependencies are other modules that must be enabled in the same database, and
 * their requirements are tenant settings that must be filled in first. Migrations are append-only:
 * never edit a shipped version, add the next; every database that has the module is brought up
 * to the latest version by the `upgradeModule` workflow.
 */

export type SettingField = keyof TenantSettings;

/** A column's default: a typed value, or a tenant setting read when the migration runs. */
export type ModuleDefault = { readonly value: unknown } | { readonly setting: 'defaultCurrency' };

export interface ModuleColumn {
  readonly name: string;
  /** A tenant column type: text, integer, bigint, numeric(p,s), boolean, date, timestamptz, uuid, jsonb. */
  readonly type: string;
  readonly nullable?: boolean;
  readonly unique?: boolean;
  readonly default?: ModuleDefault;
  /** A foreign key to another table's `id` in the same database. */
  readonly references?: { readonly table: string; readonly onDelete: 'cascade' | 'restrict' | 'set null' };
}

export interface ModuleIndex {
  readonly columns: readonly string[];
  readonly unique?: boolean;
}

export interface ModuleTable {
  readonly name: string;
  readonly columns: readonly ModuleColumn[];
  readonly indexes?: readonly ModuleIndex[];
}

export type MigrationStep =
  | { readonly createTable: ModuleTable }
  | { readonly addColumn: { readonly table: string; readonly column: ModuleColumn } }
  | { readonly createIndex: { readonly table: string } & ModuleIndex };

export interface ModuleMigration {
  readonly version: number;
  readonly description: string;
  readonly steps: readonly MigrationStep[];
}

export interface ModuleDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly dependencies: readonly string[];
  readonly requirements: readonly SettingField[];
  readonly migrations: readonly ModuleMigration[];
}

const money = (name: string, nullable = false): ModuleColumn => ({ name, type: 'numeric(12,2)', nullable });
const currency: ModuleColumn = {
  name: 'currency',
  type: 'text',
  nullable: false,
  default: { setting: 'defaultCurrency' },
};

export const billing: ModuleDefinition = {
  id: 'billing',
  name: 'Billing',
  description:
    "Customers, invoices and invoice lines. Amounts are numeric(12,2) in the tenant's default currency, whose code each invoice stores.",
  dependencies: [],
  requirements: ['address', 'companyEmail', 'defaultCurrency'],
  migrations: [
    {
      version: 1,
      description: 'customers, invoices, invoice_items',
      steps: [
        {
          createTable: {
            name: 'customers',
            columns: [
              { name: 'name', type: 'text', nullable: false },
              { name: 'email', type: 'text' },
              { name: 'address', type: 'jsonb' },
              { name: 'tax_number', type: 'text' },
            ],
            indexes: [{ columns: ['email'] }],
          },
        },
        {
          createTable: {
            name: 'invoices',
            columns: [
              {
                name: 'customer_id',
                type: 'uuid',
                nullable: false,
                references: { table: 'customers', onDelete: 'restrict' },
              },
              { name: 'number', type: 'text', nullable: false, unique: true },
              { name: 'status', type: 'text', nullable: false, default: { value: 'draft' } },
              currency,
              { name: 'issued_on', type: 'date' },
              { ...money('total'), default: { value: '0' } },
            ],
            indexes: [{ columns: ['customer_id'] }],
          },
        },
        {
          createTable: {
            name: 'invoice_items',
            columns: [
              {
                name: 'invoice_id',
                type: 'uuid',
                nullable: false,
                references: { table: 'invoices', onDelete: 'cascade' },
              },
              { name: 'description', type: 'text', nullable: false },
              { name: 'quantity', type: 'numeric(12,3)', nullable: false, default: { value: '1' } },
              money('unit_price'),
              money('amount'),
            ],
            indexes: [{ columns: ['invoice_id'] }],
          },
        },
      ],
    },
    {
      version: 2,
      description: 'invoices.due_on, indexed for dunning',
      steps: [
        { addColumn: { table: 'invoices', column: { name: 'due_on', type: 'date' } } },
        { createIndex: { table: 'invoices', columns: ['due_on'] } },
      ],
    },
  ],
};

export const crm: ModuleDefinition = {
  id: 'crm',
  name: 'CRM',
  description: 'Contacts and deals, attached to billing customers.',
  dependencies: ['billing'],
  requirements: ['companyEmail'],
  migrations: [
    {
      version: 1,
      description: 'contacts, deals',
      steps: [
        {
          createTable: {
            name: 'contacts',
            columns: [
              { name: 'customer_id', type: 'uuid', references: { table: 'customers', onDelete: 'set null' } },
              { name: 'first_name', type: 'text', nullable: false },
              { name: 'last_name', type: 'text' },
              { name: 'email', type: 'text' },
              { name: 'phone', type: 'text' },
            ],
            indexes: [{ columns: ['customer_id'] }, { columns: ['email'] }],
          },
        },
        {
          createTable: {
            name: 'deals',
            columns: [
              {
                name: 'customer_id',
                type: 'uuid',
                nullable: false,
                references: { table: 'customers', onDelete: 'restrict' },
              },
              { name: 'contact_id', type: 'uuid', references: { table: 'contacts', onDelete: 'set null' } },
              { name: 'title', type: 'text', nullable: false },
              { name: 'stage', type: 'text', nullable: false, default: { value: 'lead' } },
              money('value', true),
              currency,
              { name: 'expected_close_on', type: 'date' },
            ],
            indexes: [{ columns: ['customer_id'] }, { columns: ['stage'] }],
          },
        },
      ],
    },
  ],
};

export const subscriptions: ModuleDefinition = {
  id: 'subscriptions',
  name: 'Subscriptions',
  description: 'Plans and the subscriptions of billing customers to them.',
  dependencies: ['billing'],
  requirements: ['defaultCurrency'],
  migrations: [
    {
      version: 1,
      description: 'plans, subscriptions',
      steps: [
        {
          createTable: {
            name: 'plans',
            columns: [
              { name: 'name', type: 'text', nullable: false, unique: true },
              { name: 'billing_interval', type: 'text', nullable: false, default: { value: 'month' } },
              money('price'),
              currency,
              { name: 'active', type: 'boolean', nullable: false, default: { value: true } },
            ],
          },
        },
        {
          createTable: {
            name: 'subscriptions',
            columns: [
              {
                name: 'customer_id',
                type: 'uuid',
                nullable: false,
                references: { table: 'customers', onDelete: 'restrict' },
              },
              {
                name: 'plan_id',
                type: 'uuid',
                nullable: false,
                references: { table: 'plans', onDelete: 'restrict' },
              },
              { name: 'status', type: 'text', nullable: false, default: { value: 'active' } },
              { name: 'started_on', type: 'date', nullable: false },
              { name: 'current_period_end', type: 'date' },
              { name: 'canceled_at', type: 'timestamptz' },
            ],
            indexes: [{ columns: ['customer_id'] }, { columns: ['plan_id'] }],
          },
        },
      ],
    },
  ],
};

export const moduleCatalog: readonly ModuleDefinition[] = [billing, crm, subscriptions];
export const MODULE_IDS = moduleCatalog.map((m) => m.id) as [string, ...string[]];
export const MODULE_ID_PATTERN = /^[a-z][a-z0-9_-]{0,39}$/;

export function moduleById(id: string): ModuleDefinition | undefined {
  return moduleCatalog.find((m) => m.id === id);
}

export const latestVersion = (module: ModuleDefinition) =>
  Math.max(...module.migrations.map((m) => m.version));

/** The module's tables at `version` (the latest by default), folded from its migrations. */
export function tablesAt(module: ModuleDefinition, version = latestVersion(module)): ModuleTable[] {
  const tables = new Map<string, { name: string; columns: ModuleColumn[]; indexes: ModuleIndex[] }>();
  for (const migration of module.migrations.filter((m) => m.version <= version)) {
    for (const step of migration.steps) {
      if ('createTable' in step) {
        tables.set(step.createTable.name, {
          name: step.createTable.name,
          columns: [...step.createTable.columns],
          indexes: [...(step.createTable.indexes ?? [])],
        });
      } else if ('addColumn' in step) {
        tables.get(step.addColumn.table)?.columns.push(step.addColumn.column);
      } else {
        const { table, ...index } = step.createIndex;
        tables.get(table)?.indexes.push(index);
      }
    }
  }
  return [...tables.values()];
}

/** The modules enabled in a database that depend on `moduleId`. */
export function dependentsOf(moduleId: string, enabled: readonly string[]): string[] {
  return moduleCatalog
    .filter((m) => enabled.includes(m.id) && m.dependencies.includes(moduleId))
    .map((m) => m.id);
}
