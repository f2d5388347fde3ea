import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { billing, latestVersion, tablesAt } from '#shared/modules/catalog';
import { type Actor, eventually, newActor, type TenantMaking } from '../support/actors.ts';
import { errorOf, expectStatus, withPg } from '../support/tenancy.ts';
import {
  COMPLETE_SETTINGS,
  ISOLATIONS,
  inTenantDatabase,
  tenantMakingFor,
  tenantWithDatabase,
} from '../support/tenant-data.ts';

/**
 * Modules on the local platform: requirements, dependencies, the tables they make (read from the
 * tenant database's catalog), idempotent enable/disable, dropData, and an upgrade across several
 * tenants with one whose database was tampered with.
 */

const info = inject('platform');
const client = new LocalClient(info);
afterAll(() => client.close());

type ModuleItem = {
  id: string;
  enabled: boolean;
  requirements: { met: boolean; missingFields: string[] };
  databases: { databaseId: string; enabled: boolean; version: number }[];
};

const catalogOf = (databaseId: string) =>
  inTenantDatabase(info, databaseId, async (pg) => {
    const columns = await pg.query(
      `select table_name, column_name, data_type, is_nullable, numeric_precision, numeric_scale, column_default
         from information_schema.columns where table_schema = current_schema() and table_name not like 'tenantry%'
        order by table_name, ordinal_position`,
    );
    const foreignKeys = await pg.query(
      `select con.conrelid::regclass::text as "table", a.attname as "column", con.confrelid::regclass::text as "references"
         from pg_constraint con join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
        where con.contype = 'f' and con.connamespace = current_schema()::regnamespace order by 1, 2`,
    );
    const indexes = await pg.query(
      `select tablename, indexname from pg_indexes where schemaname = current_schema()`,
    );
    const migrations = await pg.query(
      'select module, version from tenantry_migrations order by module, version',
    );
    const comments = await pg.query(
      `select relname, obj_description(oid, 'pg_class') as comment from pg_class where relkind = 'r' and relnamespace = current_schema()::regnamespace`,
    );
    return {
      columns: columns.rows as {
        table_name: string;
        column_name: string;
        data_type: string;
        is_nullable: string;
        numeric_precision: number | null;
        numeric_scale: number | null;
        column_default: string | null;
      }[],
      foreignKeys: foreignKeys.rows as { table: string; column: string; references: string }[],
      indexes: indexes.rows as { tablename: string; indexname: string }[],
      migrations: migrations.rows as { module: string; version: number }[],
      comments: Object.fromEntries(comments.rows.map((r) => [r.relname, r.comment])) as Record<
        string,
        string | null
      >,
    };
  });

describe.each(ISOLATIONS)('%s tenants', (isolation) => {
  let making: TenantMaking;
  beforeAll(async () => {
    making = await tenantMakingFor(client, isolation);
  });

  describe('modules', () => {
    let owner: Actor;
    let tenantId: string;
    let databaseId: string;
    let base: string;

    beforeAll(async () => {
      owner = await newActor(client, 'modules-owner');
      ({ tenantId, databaseId, base } = await tenantWithDatabase(owner, COMPLETE_SETTINGS, making));
    });

    const modules = async (actor = owner, id = tenantId) =>
      (expectStatus(await actor.call('GET', `/tenants/${id}/modules`), 200).body as { items: ModuleItem[] })
        .items;
    const enable = (moduleId: string, actor = owner, id = tenantId, db = databaseId) =>
      actor.call('POST', `/tenants/${id}/modules`, { moduleId, databaseId: db });

    it('lists exactly the missing requirement fields, and refuses to enable with requirements_unmet', async () => {
      const bare = await newActor(client, 'modules-bare');
      const { tenantId: bareTenant, databaseId: bareDb } = await tenantWithDatabase(
        bare,
        { companyEmail: 'x@example.com' },
        making,
      );
      const listed = await modules(bare, bareTenant);
      expect(listed.find((m) => m.id === 'billing')?.requirements).toMatchObject({
        met: false,
        missingFields: ['address'],
      });
      const refused = await enable('billing', bare, bareTenant, bareDb);
      expect(refused.status).toBe(400);
      expect(errorOf(refused)?.code).toBe('requirements_unmet');
      expect((refused.body as { error: { missingFields: string[] } }).error.missingFields).toEqual([
        'address',
      ]);

      // Remove what registration filled in, behind the API's back: every missing field is listed.
      await withPg(info, 'control', (pg) =>
        pg.query(
          `update tenants set settings = settings - 'companyEmail' - 'defaultCurrency' where id = $1`,
          [bareTenant],
        ),
      );
      const none = await enable('billing', bare, bareTenant, bareDb);
      expect((none.body as { error: { missingFields: string[] } }).error.missingFields).toEqual([
        'address',
        'companyEmail',
        'defaultCurrency',
      ]);
      const tables = expectStatus(
        await bare.call('GET', `/tenants/${bareTenant}/databases/${bareDb}/tables`),
        200,
      ).body as { items: unknown[] };
      expect(tables.items).toEqual([]);
    });

    it('refuses a module whose dependencies are not enabled with 409 naming them', async () => {
      for (const moduleId of ['crm', 'subscriptions']) {
        const refused = await enable(moduleId);
        expect(refused.status).toBe(409);
        expect(errorOf(refused)?.code).toBe('dependencies_missing');
        expect((refused.body as { error: { missingModules: string[] } }).error.missingModules).toEqual([
          'billing',
        ]);
      }
      expect((await catalogOf(databaseId)).columns).toEqual([]);
    });

    it('enables billing: the declared tables, columns, keys and indexes exist, the version is recorded; twice is safe', async () => {
      const first = expectStatus(await enable('billing'), 201).body;
      expect(first).toMatchObject({
        moduleId: 'billing',
        databaseId,
        enabled: true,
        version: latestVersion(billing),
      });
      const again = expectStatus(await enable('billing'), 200).body;
      expect(again).toMatchObject({ moduleId: 'billing', enabled: true, applied: [] });

      const catalog = await catalogOf(databaseId);
      for (const table of tablesAt(billing)) {
        const columns = catalog.columns.filter((c) => c.table_name === table.name);
        expect(columns.map((c) => c.column_name)).toEqual([
          'id',
          'created_at',
          'updated_at',
          ...table.columns.map((c) => c.name),
        ]);
        for (const declared of table.columns) {
          const actual = columns.find((c) => c.column_name === declared.name);
          expect(actual?.is_nullable, `${table.name}.${declared.name}`).toBe(
            declared.nullable === false ? 'NO' : 'YES',
          );
          if (declared.type === 'numeric(12,2)')
            expect([actual?.numeric_precision, actual?.numeric_scale]).toEqual([12, 2]);
        }
        expect(catalog.comments[table.name]).toBe('tenantry:module=billing');
      }
      expect(catalog.foreignKeys).toEqual([
        { table: 'invoice_items', column: 'invoice_id', references: 'invoices' },
        { table: 'invoices', column: 'customer_id', references: 'customers' },
      ]);
      expect(catalog.indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining([
          'invoices_customer_id_idx',
          'invoices_due_on_idx',
          'invoice_items_invoice_id_idx',
        ]),
      );
      expect(catalog.migrations.filter((m) => m.module === 'billing')).toEqual([
        { module: 'billing', version: 1 },
        { module: 'billing', version: 2 },
      ]);
      expect(
        catalog.columns.find((c) => c.table_name === 'invoices' && c.column_name === 'currency')
          ?.column_default,
      ).toContain('EUR');

      const tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
        enabledModules: string[];
      };
      expect(tenant.enabledModules).toEqual(['billing']);
      const item = (await modules()).find((m) => m.id === 'billing');
      expect(item).toMatchObject({ enabled: true, databases: [{ databaseId, enabled: true, version: 2 }] });
    });

    it("stores the tenant's currency on invoices, uses the rows API on module tables, and keeps them out of the tables API's reach", async () => {
      const customer = expectStatus(
        await owner.call('POST', `${base}/tables/customers/rows`, { name: 'ACME' }),
        201,
      ).body as { id: string };
      const invoice = expectStatus(
        await owner.call('POST', `${base}/tables/invoices/rows`, {
          customer_id: customer.id,
          number: 'INV-1',
          total: '120.50',
        }),
        201,
      ).body as Record<string, unknown>;
      expect(invoice).toMatchObject({ currency: 'EUR', status: 'draft', total: '120.50' });
      expect(
        (
          await owner.call('POST', `${base}/tables/invoices/rows`, {
            customer_id: customer.id,
            number: 'INV-1',
          })
        ).status,
      ).toBe(409);
      const described = expectStatus(await owner.call('GET', `${base}/tables/invoices`), 200).body as {
        module: string;
      };
      expect(described.module).toBe('billing');
      expect((await owner.call('DELETE', `${base}/tables/customers`)).status).toBe(409);
      expect((await owner.call('PATCH', `${base}/tables/invoices`, { dropColumns: ['total'] })).status).toBe(
        409,
      );
      expect((await owner.call('DELETE', `${base}/tables/customers/rows/${customer.id}`)).status).toBe(409);
    });

    it('enables dependants, refuses to disable what they depend on, disables with data kept and again idempotently, and drops data on request', async () => {
      expectStatus(await enable('crm'), 201);
      expectStatus(await enable('subscriptions'), 201);
      const inUse = await owner.call('DELETE', `/tenants/${tenantId}/modules/billing`);
      expect(inUse.status).toBe(409);
      expect(errorOf(inUse)?.code).toBe('module_in_use');
      expect((inUse.body as { error: { dependentModules: string[] } }).error.dependentModules).toEqual([
        'crm',
        'subscriptions',
      ]);

      const customers = expectStatus(await owner.call('GET', `${base}/tables/customers/rows`), 200).body as {
        items: { id: string }[];
      };
      const contact = expectStatus(
        await owner.call('POST', `${base}/tables/contacts/rows`, {
          first_name: 'Ada',
          customer_id: customers.items[0]?.id,
        }),
        201,
      ).body as { id: string };

      // Disable crm, keeping its data; a second disable changes nothing.
      const disabled = expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/modules/crm`), 200).body;
      expect(disabled).toEqual({
        moduleId: 'crm',
        databases: [{ databaseId, enabled: false, dataDropped: false }],
      });
      expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/modules/crm`), 200);
      expectStatus(await owner.call('GET', `${base}/tables/contacts/rows/${contact.id}`), 200);
      let tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
        enabledModules: string[];
      };
      expect(tenant.enabledModules).toEqual(['billing', 'subscriptions']);
      // Its tables are the tenant's to change now that the module is off.
      expect(
        (
          await owner.call('PATCH', `${base}/tables/contacts`, {
            addColumns: [{ name: 'extra', type: 'text' }],
          })
        ).status,
      ).toBe(200);
      expectStatus(await owner.call('PATCH', `${base}/tables/contacts`, { dropColumns: ['extra'] }), 200);

      // Enabled again: nothing to migrate, the data is still there.
      expect(expectStatus(await enable('crm'), 201).body).toMatchObject({ applied: [] });
      expectStatus(await owner.call('GET', `${base}/tables/contacts/rows/${contact.id}`), 200);

      // dropData: subscriptions' tables and versions go, the others stay.
      expectStatus(
        await owner.call('DELETE', `/tenants/${tenantId}/modules/subscriptions?dropData=true`),
        200,
      );
      const catalog = await catalogOf(databaseId);
      const tables = new Set(catalog.columns.map((c) => c.table_name));
      expect(tables.has('plans') || tables.has('subscriptions')).toBe(false);
      expect(tables.has('contacts') && tables.has('customers')).toBe(true);
      expect(catalog.migrations.map((m) => m.module)).not.toContain('subscriptions');
      expect((await owner.call('DELETE', `/tenants/${tenantId}/modules/subscriptions`)).status).toBe(404);
      tenant = expectStatus(await owner.call('GET', `/tenants/${tenantId}`), 200).body as {
        enabledModules: string[];
      };
      expect(tenant.enabledModules).toEqual(['billing', 'crm']);
      // And it can come back.
      expect(expectStatus(await enable('subscriptions'), 201).body).toMatchObject({ applied: [1] });
    });

    it("never drops a tenant's own table, and says when a re-enabled module's tables are missing", async () => {
      // crm off, its data kept; the tenant then drops its deals table and makes its own.
      expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/modules/crm`), 200);
      expectStatus(await owner.call('DELETE', `${base}/tables/deals`), 204);
      expectStatus(
        await owner.call('POST', `${base}/tables`, {
          name: 'deals',
          columns: [{ name: 'note', type: 'text' }],
        }),
        201,
      );

      const reenabled = await enable('crm');
      expect(reenabled.status).toBe(409);
      expect(errorOf(reenabled)?.code).toBe('conflict');
      expect((reenabled.body as { error: { missingTables: string[] } }).error.missingTables).toEqual([
        'deals',
      ]);

      // dropData removes the module's own tables only: the tenant's deals stays.
      expectStatus(await owner.call('DELETE', `/tenants/${tenantId}/modules/crm?dropData=true`), 200);
      const tables = new Set((await catalogOf(databaseId)).columns.map((c) => c.table_name));
      expect(tables.has('deals')).toBe(true);
      expect(tables.has('contacts')).toBe(false);
      expect((await enable('crm')).status).toBe(409);
    });

    it('refuses unknown modules and foreign or malformed database ids', async () => {
      expect((await enable('payroll')).status).toBe(400);
      expect((await owner.call('DELETE', `/tenants/${tenantId}/modules/payroll`)).status).toBe(404);
      expect((await enable('billing', owner, tenantId, 'd_aaaaaaaaaaaaaaaa')).status).toBe(404);
      expect((await enable('billing', owner, tenantId, 'nope')).status).toBe(400);
      const other = await newActor(client, 'modules-other');
      const { databaseId: otherDb } = await tenantWithDatabase(other, COMPLETE_SETTINGS, making);
      expect((await enable('billing', owner, tenantId, otherDb)).status).toBe(404);
      expect((await catalogOf(otherDb)).columns).toEqual([]);
    });
  });

  describe('module upgrades', () => {
    it('upgrades every database that has the module, in waves; one tampered database fails and is reported, the others are upgraded', async () => {
      const admin = await newActor(client, 'modules-platform-admin', { groups: ['platform-admin'] });
      const owners = await Promise.all([0, 1, 2].map((i) => newActor(client, `upgrade-owner-${i}`)));
      const tenants = await Promise.all(owners.map((o) => tenantWithDatabase(o, COMPLETE_SETTINGS, making)));
      for (const [i, tenant] of tenants.entries()) {
        expectStatus(
          await (owners[i] as Actor).call('POST', `/tenants/${tenant.tenantId}/modules`, {
            moduleId: 'billing',
            databaseId: tenant.databaseId,
          }),
          201,
        );
      }
      // These databases got billing before v2 shipped: v2 undone as an operator would find them.
      for (const tenant of tenants) {
        await inTenantDatabase(info, tenant.databaseId, async (pg) => {
          await pg.query('alter table invoices drop column due_on');
          await pg.query(`delete from tenantry_migrations where module = 'billing' and version = 2`);
        });
        await withPg(info, 'control', (pg) =>
          pg.query(
            `update database_modules set version = 1 where database_id = $1 and module_id = 'billing'`,
            [tenant.databaseId],
          ),
        );
      }
      const tampered = tenants[1] as (typeof tenants)[number];
      await inTenantDatabase(info, tampered.databaseId, (pg) =>
        pg.query('alter table invoices add column due_on text'),
      );

      const forbidden = await owners[0]?.call('POST', '/modules/billing/upgrades', {});
      expect(forbidden?.status).toBe(403);

      const started = expectStatus(
        await admin.call('POST', '/modules/billing/upgrades', { waveSize: 2 }),
        202,
      ).body as { id: string };
      const done = await eventually(
        () => admin.call('GET', `/modules/billing/upgrades/${started.id}?limit=100`),
        (response) => (response.body as { status?: string }).status === 'completed',
        30_000,
      );
      const upgrade = expectStatus(done, 200).body as {
        status: string;
        toVersion: number;
        targets: {
          databaseId: string;
          tenantId: string;
          status: string;
          wave: number;
          fromVersion: number;
          error: string | null;
        }[];
      };
      expect(upgrade.status).toBe('completed');
      expect(upgrade.toVersion).toBe(2);
      const mine = upgrade.targets.filter((t) =>
        tenants.some((tenant) => tenant.databaseId === t.databaseId),
      );
      expect(mine).toHaveLength(3);
      expect(mine.every((t) => t.fromVersion === 1)).toBe(true);
      // Wave 0 is a single database (the canary), then waves of waveSize.
      const waves = upgrade.targets.map((t) => t.wave);
      expect(waves.filter((w) => w === 0)).toHaveLength(1);
      expect(Math.max(...waves.map((w) => waves.filter((x) => x === w).length))).toBeLessThanOrEqual(2);

      for (const tenant of tenants) {
        const version = await withPg(info, 'control', async (pg) =>
          Number(
            (
              await pg.query(
                `select version from database_modules where database_id = $1 and module_id = 'billing'`,
                [tenant.databaseId],
              )
            ).rows[0].version,
          ),
        );
        const migrations = await inTenantDatabase(info, tenant.databaseId, async (pg) =>
          (
            await pg.query(
              `select version from tenantry_migrations where module = 'billing' order by version`,
            )
          ).rows.map((r) => r.version as number),
        );
        if (tenant === tampered) {
          expect(version).toBe(1);
          expect(migrations).toEqual([1]);
          const target = upgrade.targets.find((t) => t.databaseId === tenant.databaseId);
          expect(target?.status).toBe('failed');
          expect(target?.error).toMatch(/due_on/);
        } else {
          expect(version).toBe(2);
          expect(migrations).toEqual([1, 2]);
        }
      }
    });
  });
});
