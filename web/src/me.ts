import type { paths } from './api/client';
import { useConsole } from './console-context';
import { type Loaded, useLoad } from './ui';

export type Me = paths['/me']['get']['responses'][200]['content']['application/json'];
export type Role = Me['memberships'][number]['role'];

/** GET /me: who the caller is, their groups, memberships and active tenant. */
export function useMe(): [Loaded<Me>, () => void] {
  const { api, session } = useConsole();
  return useLoad(() => api.GET('/me'), [api, session?.idToken]);
}

/** Roles that manage members, invitations and roles (the built-in ones; docs/identity-and-access.md). */
export const canManageMembers = (role: Role | undefined) => role === 'owner' || role === 'admin';
/** Roles that write tenant data. */
export const canWrite = (role: Role | undefined) => role !== undefined && role !== 'viewer';

/** The caller's built-in role in `tenantId`, once GET /me has answered (undefined before, or if none). */
export function useTenantRole(tenantId: string): Role | undefined {
  const [me] = useMe();
  return me.state === 'ready' ? me.data.memberships.find((m) => m.tenantId === tenantId)?.role : undefined;
}

/** Finance pages: the finance and platform-admin groups (the exports' access, docs/audit-usage.md). */
export const seesFinance = (me: Me) => me.groups.some((g) => g === 'finance' || g === 'platform-admin');
/** Platform pages: the platform-admin group. */
export const isPlatformAdmin = (me: Me) => me.groups.includes('platform-admin');
