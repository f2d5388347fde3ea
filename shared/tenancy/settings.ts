import * as z from 'zod';
import { ISO_3166_ALPHA2 } from '#shared/tenancy/country-codes';

/** Text PostgreSQL can store (no NUL character, which text and jsonb refuse). */
export const storableText = () =>
  z.string().refine((text) => !text.includes('\u0000'), { message: 'must not contain NUL characters' });

const timeZones = new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
const currencies = new Set(Intl.supportedValuesOf('currency'));
// Assigned codes only: the list of the ISO 3166 Maintenance Agency, not Intl's region names,
// which also know user-assigned and grouping codes such as ZZ, EU or QO.
const countries = new Set(ISO_3166_ALPHA2);

/** BCP 47 language tag, canonicalised (`en-us` → `en-US`). */
export const languageSchema = z
  .string()
  .max(35)
  .transform((tag, ctx) => {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) return canonical;
    } catch {
      // Not a well-formed tag.
    }
    ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag such as en-US' });
    return z.NEVER;
  });

export const timezoneSchema = z
  .string()
  .max(64)
  .refine((zone) => timeZones.has(zone), { message: 'must be an IANA time zone such as Europe/Paris' });

export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
  .refine((code) => currencies.has(code), { message: 'must be an ISO 4217 currency code' });

export const addressSchema = z.strictObject({
  line1: storableText().trim().min(1).max(200),
  line2: storableText().trim().max(200).optional(),
  city: storableText().trim().min(1).max(100),
  postalCode: storableText().trim().min(1).max(20),
  region: storableText().trim().max(100).optional(),
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as FR')
    .refine((code) => countries.has(code), {
      message: 'must be an assigned ISO 3166-1 alpha-2 country code',
    }),
});

export const themeSchema = z.strictObject({
  mode: z.enum(['light', 'dark', 'system']).default('system'),
  primaryColor: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/, 'must be a hex colour such as #1a2b3c')
    .optional(),
});

export const tenantNameSchema = storableText().trim().min(1).max(120);

/** Every tenant setting; all optional on update, unknown fields rejected. */
export const tenantSettingsSchema = z.strictObject({
  address: addressSchema.optional(),
  companyEmail: z.email().max(254).optional(),
  language: languageSchema.optional(),
  logoUrl: z
    .url({ protocol: /^https$/, hostname: z.regexes.domain, error: 'must be an https URL' })
    .max(2048)
    .refine((url) => !url.includes('\u0000'), { message: 'must not contain NUL characters' })
    .optional(),
  theme: themeSchema.optional(),
  timezone: timezoneSchema.optional(),
  defaultCurrency: currencySchema.optional(),
});
export type TenantSettings = z.infer<typeof tenantSettingsSchema>;

export const DEFAULT_SETTINGS = { defaultCurrency: 'USD', language: 'en', timezone: 'UTC' } as const;

/** `POST /tenants`: a name and any settings. */
export const registerTenantSchema = tenantSettingsSchema.extend({ name: tenantNameSchema });
