import { iso31661 } from 'iso-3166';
import { describe, expect, it } from 'vitest';
import { ISO_3166_ALPHA2 } from '#shared/tenancy/country-codes';
import { addressSchema, currencySchema } from '#shared/tenancy/settings';

const address = (country: string) => ({
  line1: '1 rue de Rivoli',
  city: 'Paris',
  postalCode: '75001',
  country,
});

describe('tenant settings: codes checked against maintained lists', () => {
  it('accepts assigned ISO 3166-1 alpha-2 country codes', () => {
    // Arrange / Act / Assert: a few assigned codes, including recent and small ones.
    for (const code of ['FR', 'DE', 'US', 'JP', 'SS', 'BQ', 'AQ']) {
      expect(addressSchema.safeParse(address(code)).success, code).toBe(true);
    }
  });

  it('refuses well-formed codes that are not assigned countries (user-assigned, groupings, unused)', () => {
    // ZZ and XK are user-assigned, EU and UN are exceptionally reserved groupings, JJ is unused.
    for (const code of ['ZZ', 'JJ', 'EU', 'UN', 'QO', 'XK', 'AA']) {
      const result = addressSchema.safeParse(address(code));
      expect(result.success, code).toBe(false);
      expect(
        result.error?.issues.map((issue) => issue.path.join('.')),
        code,
      ).toEqual(['country']);
    }
  });

  it('refuses lower-case and three-letter country codes with the format message', () => {
    for (const code of ['fr', 'FRA', 'F', '']) {
      expect(addressSchema.safeParse(address(code)).success, code).toBe(false);
    }
  });

  it('keeps currencies checked against ISO 4217 the same way', () => {
    expect(currencySchema.safeParse('EUR').success).toBe(true);
    expect(currencySchema.safeParse('XXY').success).toBe(false);
  });
});

describe('the country codes', () => {
  it('are exactly the assigned ISO 3166-1 alpha-2 codes of the iso-3166 package', () => {
    expect([...ISO_3166_ALPHA2].sort()).toEqual(iso31661.map((country) => country.alpha2).sort());
    expect(new Set(ISO_3166_ALPHA2).size).toBe(ISO_3166_ALPHA2.length);
  });
});
