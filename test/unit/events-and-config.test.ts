import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { baseHttpConfigSchema, loadConfig } from '#shared/config';
import { ConfigError } from '#shared/errors';
import { DuplicateEventType, EventCatalog, UnknownEventType } from '#shared/events/catalog';
import { catalog } from '#shared/events/events';

describe('event catalog', () => {
  it('rejects a detail-type registered twice', () => {
    const local = new EventCatalog();
    local.register({ source: 'a', detailType: 'Thing Happened', description: 'x', schema: z.object({}) });

    expect(() =>
      local.register({ source: 'b', detailType: 'Thing Happened', description: 'y', schema: z.object({}) }),
    ).toThrow(DuplicateEventType);
    expect(local.list()).toHaveLength(1);
  });

  it('throws for an unknown detail-type', () => {
    expect(() => catalog.get('No Such Event')).toThrow(UnknownEventType);
  });

  it('registers the platform events once each, under tenantry sources', () => {
    const types = catalog.list().map((e) => e.detailType);
    expect(types).toEqual(
      expect.arrayContaining(['Audit Record', 'Usage Recorded', 'Metric Sample', 'Tenant Provisioned']),
    );
    for (const event of catalog.list()) expect(event.source).toMatch(/^tenantry\./);
  });
});

describe('configuration', () => {
  it('parses valid values and applies defaults', () => {
    const config = loadConfig(baseHttpConfigSchema, { TENANTRY_STAGE: 'dev' });
    expect(config).toEqual({ TENANTRY_STAGE: 'dev', LOG_LEVEL: 'INFO' });
  });

  it('names every missing or invalid variable', () => {
    const schema = baseHttpConfigSchema.extend({ EVENT_BUS_NAME: z.string().min(1) });
    let error: unknown;
    try {
      loadConfig(schema, { TENANTRY_STAGE: 'Not A Stage', LOG_LEVEL: 'LOUD' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    expect(configError.variables.sort()).toEqual(['EVENT_BUS_NAME', 'LOG_LEVEL', 'TENANTRY_STAGE']);
    expect(configError.message).toMatch(/EVENT_BUS_NAME: missing/);
    expect(configError.message).toMatch(/TENANTRY_STAGE: lower-case stage name/);
  });
});
