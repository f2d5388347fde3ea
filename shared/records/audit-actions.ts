/** The operation an audit record names: a route's operationId and path template. */
export interface AuditedOperation {
  readonly operationId: string;
  readonly path: string;
}

const camel = (segment: string) => segment.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/**
 * The audit action of a route: `<collection>.<verb>`, where the collection is the last literal
 * segment of the path (`/tenants/{tenantId}/members/{userId}` → `members`) and the verb is the
 * operationId without that collection's noun (`inviteMember` → `invite`, `changeMemberRole` →
 * `changeRole`, `insertRow` → `insert`). So `rows.insert`, `members.invite`, `roles.assign`. A verb
 * segment after an object id names the verb itself: `invitations.accept`.
 */
export function actionOf(route: AuditedOperation): string {
  const segments = route.path.split('/').filter(Boolean);
  const literals = segments.filter((segment) => !segment.startsWith('{'));
  const last = segments[segments.length - 1] ?? '';
  // A verb on one object (`/me/invitations/{invitationId}/accept`, operationId `acceptInvitation`)
  // belongs to the collection before it: `invitations.accept`, not `accept.acceptInvitation`.
  if (segments[segments.length - 2]?.startsWith('{') && route.operationId.startsWith(camel(last))) {
    return `${camel(literals[literals.length - 2] ?? 'platform')}.${camel(last)}`;
  }
  const collection = camel(literals[literals.length - 1] ?? 'platform');
  const plural = capital(collection);
  const singular = plural.endsWith('s') ? plural.slice(0, -1) : plural;
  let verb = route.operationId;
  for (const noun of [plural, singular]) {
    const at = verb.indexOf(noun, 1);
    if (at > 0 && !/[a-z]/.test(verb.charAt(at + noun.length))) {
      verb = verb.slice(0, at) + verb.slice(at + noun.length);
      break;
    }
  }
  return `${collection}.${verb}`;
}

export type Outcome = 'success' | 'denied' | 'failed';

/** 401 and 403 are refusals; a 404 is one when authorisation, not the use case, gave it. */
export function outcomeOf(status: number, authorised: boolean): Outcome {
  if (status < 400) return 'success';
  if (status === 401 || status === 403 || (status === 404 && !authorised)) return 'denied';
  return 'failed';
}
