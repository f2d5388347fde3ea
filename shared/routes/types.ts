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

export interface ResponseSpec {
  readonly description: string;
  /** The JSON body (`application/json`). */
  readonly schema?: z.ZodType;
  /**
   * The route may answer this text media type instead (the body is the file itself), chosen by
   * its own query (`format=csv`); the OpenAPI document lists it beside the JSON body.
   */
  readonly text?: { readonly mediaType: 'text/csv'; readonly description: string };
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
  readonly request: {
    readonly params?: P;
    readonly query?: Q;
    readonly body?: B;
  };
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
