/** What an audit record may keep of a request: nothing secret, nothing unbounded. */

export const REDACTED = '[redacted]';

/** Keys whose values are never recorded, whatever they hold. */
const SECRET_KEY =
  /pass(word|phrase|wd)?|secret|token|credential|api[-_]?key|auth(orization)?$|private[-_]?key|session|cookie|signature|^pin$|otp|cvv|card[-_]?number/i;

/** Values that look like credentials wherever they appear. */
const SECRET_VALUES: readonly RegExp[] = [
  /^Bearer\s+\S+/i,
  /^Basic\s+[A-Za-z0-9+/=]+$/i,
  /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/, // JWT
  /\b(AKIA|ASIA)[0-9A-Z]{16}\b/, // AWS access key id
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(sk|pk|rk)_(live|test)_[A-Za-z0-9]{10,}/, // payment provider keys
  /\bgh[pousr]_[A-Za-z0-9]{30,}/, // GitHub tokens
  /:\/\/[^/\s:@]+:[^/\s@]+@/, // credentials in a URL or connection string
];

/** Long unbroken runs of base64/hex with letters and digits: generated secrets, not prose or ids. */
const HIGH_ENTROPY = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9+/=_-]{40,}$/;

const MAX_DEPTH = 4;
const MAX_STRING = 256;
const MAX_ITEMS = 20;
const MAX_KEYS = 30;
/** The detail is one of up to 3 entries in one PutEvents call (256 KiB in all). */
export const MAX_DETAILS_BYTES = 4096;

/**
 * Keys the DynamoDB document marshaller cannot store as plain data: it reads `__proto__` and
 * `constructor` as the object's own machinery and refuses the map ("Unsupported type passed"),
 * and DynamoDB refuses an empty attribute name ("Attribute names must be at least one character
 * long": https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html).
 * Such a key is kept, bracketed: `[__proto__]`, `[]`.
 */
const UNSTORABLE_KEY = /^(?:__proto__|constructor|prototype|)$/;

/** A key as an audit record keeps it: bracketed if unstorable, cut like a string. */
function storableKey(key: string): string {
  const kept = UNSTORABLE_KEY.test(key) ? `[${key}]` : key;
  return kept.length > MAX_STRING ? `${kept.slice(0, MAX_STRING)}…` : kept;
}

/**
 * DynamoDB numbers hold 38 digits between 1E-130 and 9.99E+125 in magnitude; the SDK's marshaller
 * refuses integers beyond Number.MAX_SAFE_INTEGER outright (it would lose digits). Any number a
 * body holds that either would refuse is kept as its JSON text.
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html#HowItWorks.DataTypes.Number
 */
function storableNumber(value: number): number | string {
  if (Number.isSafeInteger(value)) return value;
  const magnitude = Math.abs(value);
  const inRange =
    Number.isFinite(value) && !Number.isInteger(value) && magnitude < 1e125 && magnitude > 1e-130;
  return inRange ? value : String(value);
}

export function isSecretValue(value: string): boolean {
  return SECRET_VALUES.some((pattern) => pattern.test(value)) || HIGH_ENTROPY.test(value);
}

/**
 * A copy of `value` safe to keep in an audit record: values under secret-looking keys and
 * secret-looking values are replaced, long strings cut, deep or wide structures bounded.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return storableNumber(value);
  if (typeof value === 'string') {
    if (isSecretValue(value)) return REDACTED;
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  }
  if (depth >= MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((item) => redact(item, depth + 1));
    return value.length > MAX_ITEMS ? [...items, `[+${value.length - MAX_ITEMS} more]`] : items;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    // fromEntries defines own data properties, so no key can reach the prototype of the copy.
    const out: Record<string, unknown> = Object.fromEntries(
      entries
        .slice(0, MAX_KEYS)
        .map(([key, inner]) => [
          storableKey(key),
          SECRET_KEY.test(key) ? REDACTED : redact(inner, depth + 1),
        ]),
    );
    if (entries.length > MAX_KEYS) out['[more]'] = entries.length - MAX_KEYS;
    return out;
  }
  return String(typeof value);
}

/** The field names of an object, as many as `redact` keeps, each redacted like a value. */
export function redactedKeys(value: object): string[] {
  return Object.keys(value)
    .slice(0, MAX_KEYS)
    .map((key) => String(redact(storableKey(key))));
}

/** Details within `MAX_DETAILS_BYTES`; past it, only the method and the body's field names. */
export function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(details);
  if (Buffer.byteLength(text, 'utf8') <= MAX_DETAILS_BYTES) return details;
  return { method: details.method, truncated: true, fields: Object.keys((details.body as object) ?? {}) };
}
