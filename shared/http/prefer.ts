/**
 * The `Prefer` request header (RFC 7240, https://www.rfc-editor.org/rfc/rfc7240): a client asks
 * for a behaviour the server may honour, and the server says which it honoured in
 * `Preference-Applied`. Tenantry honours `return=minimal` on the many-rows routes: "the client
 * wishes the server to return only a minimal response to a successful request" (§4.2), here the
 * count and the ids instead of every row read back. Preferences are a comma-separated list, their
 * names and values case-insensitive tokens, each optionally with `;` parameters (§2); one the
 * server does not know is ignored, never an error.
 */

export const PREFERENCE_APPLIED_HEADER = 'preference-applied';

/** Whether the request's `Prefer` header (lower-cased name) asks for `return=minimal`. */
export function prefersMinimalReturn(headers: Readonly<Record<string, string | undefined>>): boolean {
  const prefer = headers.prefer;
  if (!prefer) return false;
  return prefer.split(',').some((preference) => {
    const [token = ''] = preference.split(';');
    const [name = '', value = ''] = token.split('=').map((part) => part.trim().replace(/^"(.*)"$/, '$1'));
    return name.toLowerCase() === 'return' && value.toLowerCase() === 'minimal';
  });
}

/** The answer's header saying `return=minimal` was honoured. */
export const MINIMAL_RETURN_APPLIED = { [PREFERENCE_APPLIED_HEADER]: 'return=minimal' } as const;
