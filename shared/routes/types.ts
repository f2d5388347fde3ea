import type * as z from 'zod';
import type { Need } from '#shared/domain/needs';
import type { Permission, PlatformGroup } from '#shared/domain/permissions';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * Who may call a route. There is no default: a route must say it is public, needs only a
 * signed-in caller, needs a tenant permission (checked against the caller's membership of the
 * `{tenantId}` in its path), or needs a platform group.
 */
export type Access =
  | { readonly kind: 'public' }
  | { readonly kind: 'signed-in' }
  | {
      readonly kind: 'tenant';
      readonly permission: Permission;
      /** The route stays open to members of a suspended tenant (it shows them the suspension). */
      readonly whileSuspended?: true;
    }
  | { readonly kind: 'platform'; readonly groups: readonly [PlatformGroup, ...PlatformGroup[]] };

/**
 * The text media types a route may take or answer as a file (CSV, RFC 4180; NDJSON, one JSON value
 * a line; HTML, a printable page such as the compliance report).
 */
export type TextMediaType = 'text/csv' | 'application/x-ndjson' | 'text/html';

export interface TextBodySpec {
  readonly mediaType: TextMediaType;
  readonly description: string;
}

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body (`application/json`). */
  readonly schema?: z.ZodType;
  /**
   * The route may answer these text media types instead (the body is the file itself), chosen by
   * its own query (`format=csv`); the OpenAPI document lists them beside the JSON body.
   */
  readonly text?: TextBodySpec | readonly TextBodySpec[];
}

/** What a route's audit record says of an accepted body (see `RouteSpec.auditDetails`). */
export interface AuditedRequest {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway path syntax: `/tenants/{tenantId}`. */
  readonly path: string;
  readonly summary: string;
  readonly tags: readonly string[];
  readonly access: Access;
  /** Entry point under `functions/`, without extension: `platform/get-health`. */
  readonly handler: string;
  /**
   * What the handler reaches beyond its own logs (shared/routes/needs.ts). No default: the CDK app
   * grants a route's function exactly the union of its routes' needs, and sets only their
   * environment. Public routes declare `[]`.
   */
  readonly needs: readonly Need[];
  /**
   * The route takes an `Idempotency-Key` header (shared/http/idempotency.ts,
   * docs/retry-safe-writes.md): the same caller, key and request answer the first result again.
   * For every route that creates something. The records are kept in the control database, so the
   * route declares `controlDb`; keys belong to callers, so it is not public.
   */
  readonly idempotent?: true;
  /**
   * The route honours `Prefer: return=minimal` (shared/http/prefer.ts, RFC 7240): its success
   * then answers without reading its rows back, and says so in `Preference-Applied`.
   */
  readonly preferMinimal?: true;
  /**
   * A read an admin needs to see why the tenant's month ran out (the tenant, its quotas, its
   * usage): still rate-limited and counted, never refused for `apiCallsPerMonth` (issue 15).
   */
  readonly exemptFromMonthlyQuota?: true;
  /**
   * A write that grows the tenant's data (rows, tables): refused with 403 `quota_exceeded` once
   * the latest storage snapshot has reached the plan's `storageBytes` (shared/http/storage-quota.ts).
   */
  readonly growsStorage?: true;
  readonly request: {
    readonly params?: P;
    readonly query?: Q;
    /** The body's schema: of the parsed JSON, or of the text itself for a `textBody` route. */
    readonly body?: B;
    /**
     * The body is a file, not JSON: its content type must be one of these, and `body` parses its
     * text (UTF-8). Without it a body must be `application/json`.
     */
    readonly textBody?: readonly [TextBodySpec, ...TextBodySpec[]];
  };
  /**
   * The largest body this route takes, in bytes, and the most keys and array items its JSON may
   * hold, when they differ from the API's defaults (`MAX_BODY_BYTES`, `MAX_JSON_ELEMENTS` in
   * shared/http/middleware.ts and shared/core/validation.ts). A larger body is a 413 naming the
   * route's own limit. For routes that take many rows at once (shared/data/row-batch.ts).
   */
  readonly bodyLimits?: { readonly bytes: number; readonly jsonElements?: number };
  /**
   * What the audit record of an accepted request says instead of its (redacted, bounded) body: a
   * summary for bodies too large or too repetitive to be worth keeping (a batch of rows records
   * `{ rows, table }`). Must not throw; it runs after the response is made.
   */
  readonly auditDetails?: (request: AuditedRequest) => Record<string, unknown>;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;
export type RouteParams<R> = R extends RouteSpec ? Infer<R['request']['params']> : never;
export type RouteQuery<R> = R extends RouteSpec ? Infer<R['request']['query']> : never;
export type RouteBody<R> = R extends RouteSpec ? Infer<R['request']['body']> : never;

/** Identity for a route: keeps the literal schema types so handlers get typed input. */
export function defineRoute<const R extends RouteSpec>(route: R): R {
  return route;
}
