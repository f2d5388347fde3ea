import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.gen';

export type { components, paths } from './schema.gen';

export type ApiClient = ReturnType<typeof createClient<paths>>;

/**
 * The API's error (components.schemas.Error, generated): `details` are the validation issues;
 * `missingFields` is what a module's requirements lack (a loose field of that refusal).
 */
export type ApiError = components['schemas']['Error']['error'] & {
  readonly missingFields?: readonly string[];
};

/**
 * The console's only way to the API: openapi-fetch typed by the generated `paths`, so every path,
 * parameter, body and answer is the contract's. Each request carries the session's ID token.
 */
export function apiClient(
  baseUrl: string,
  token: () => string | undefined,
  onUnauthorized: () => void,
): ApiClient {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      const value = token();
      if (value) request.headers.set('authorization', `Bearer ${value}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The error of an answer that was not 2xx, whatever its shape (a gateway's has no `error`). */
export function apiError(body: unknown, status: number): ApiError {
  if (typeof body === 'object' && body !== null && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (typeof error === 'object' && error !== null && 'code' in error) return error as ApiError;
  }
  const message =
    typeof body === 'object' && body !== null && 'message' in body
      ? String((body as { message: unknown }).message)
      : '';
  return {
    code: status === 404 ? 'not_found' : `http_${status}`,
    message: message || `The API answered ${status}`,
  };
}

/** The body's validation issues by field (their dotted path), for messages shown on the fields. */
export function fieldErrors(error: ApiError | undefined): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const issue of Array.isArray(error?.details) ? (error?.details ?? []) : []) {
    const field = typeof issue.path === 'string' ? issue.path : '';
    if (issue.location === 'body' && field && issue.message && !(field in byField))
      byField[field] = issue.message;
  }
  return byField;
}
