import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { logger } from '#shared/core/logger';
import { TENANT_CLAIMS } from '#shared/domain/caller';
import type { ActiveTenantClaims, ActiveTenantSource } from '#shared/ports/active-tenant';
import { DatabaseResuming, sqlFailureOf } from '#shared/ports/sql';

export type PreTokenEvent = PreTokenGenerationTriggerEvent | PreTokenGenerationV2TriggerEvent;

/**
 * How long sign-in waits for the control database before the token is issued without tenant
 * claims. Cognito gives a trigger 5 seconds to answer and cannot be told otherwise ("Things to know
 * about Lambda triggers", https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html);
 * the function's own timeout is 5 s as well (infra/stacks/identity-stack.ts). 3 s leaves the rest
 * for a cold start and the answer. Retrying a resuming cluster within that budget is pointless: it
 * takes up to about 15 s to resume (see DATABASE_RESUMING_RETRY_AFTER_SECONDS in
 * shared/http/middleware.ts).
 */
export const CLAIMS_LOOKUP_BUDGET_MS = 3_000;

const LATE = Symbol('late');

/**
 * The tenant claims of a signing-in user, or none when the control database cannot say in time:
 * paused and resuming, failing, or slower than the budget. The claims are informational (the API
 * authorises every tenant request against the memberships in the control database), so a token
 * without them loses nothing but a hint, while failing here would fail the sign-in itself.
 */
export async function tenantClaimsForSignIn(
  source: ActiveTenantSource,
  userId: string,
  budgetMs: number = CLAIMS_LOOKUP_BUDGET_MS,
): Promise<ActiveTenantClaims | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), budgetMs);
  });
  const lookup = source.activeTenantOf(userId);
  lookup.catch(() => {}); // a lookup that fails after the budget ran out is no one's error
  try {
    const answer = await Promise.race([lookup, late]);
    if (answer !== LATE) return answer;
    logger.warn('token issued without tenant claims', { userId, reason: 'timeout', budgetMs });
    return null;
  } catch (error) {
    if (error instanceof DatabaseResuming || sqlFailureOf(error)?.transient) {
      logger.warn('token issued without tenant claims', {
        userId,
        reason: error instanceof DatabaseResuming ? 'database_resuming' : 'transient',
      });
    } else {
      logger.error('token issued without tenant claims', { userId, reason: 'error', error: error as Error });
    }
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The trigger sources that are a sign-in, not a token refresh: Cognito invokes the trigger for
 * both, `TokenGeneration_RefreshTokens` being the refresh
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html,
 * "Pre token generation Lambda trigger sources"). A refresh is not a sign-in: the refresh token
 * was issued at one, and expires (30 days by default), after which the user signs in again.
 */
export const isSignIn = (triggerSource: string) => triggerSource !== 'TokenGeneration_RefreshTokens';

/** Where a sign-in is recorded (the control database's users, `UserRepository.recordSignIn`). */
export interface SignInRecorder {
  recordSignIn(userId: string, at: Date): Promise<void>;
}

/**
 * Records the sign-in within the same budget as the claims (they run together), never failing
 * the sign-in: a user whose sign-in could not be recorded this time merely looks older in the
 * compliance report's inactive-admin check, which says so (docs/compliance.md).
 */
export async function recordSignInWithin(
  recorder: SignInRecorder,
  userId: string,
  at: Date,
  budgetMs: number = CLAIMS_LOOKUP_BUDGET_MS,
): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), budgetMs);
  });
  const write = recorder.recordSignIn(userId, at);
  write.catch(() => {}); // a write that fails after the budget ran out is no one's error
  try {
    const answer = await Promise.race([write.then(() => true as const), late]);
    if (answer === LATE) logger.warn('sign-in not recorded', { userId, reason: 'timeout', budgetMs });
    return answer === true;
  } catch (error) {
    logger.warn('sign-in not recorded', {
      userId,
      reason: sqlFailureOf(error)?.transient ? 'transient' : 'error',
    });
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Adds the tenant claims to the ID token in either trigger format: V1 (what cognito-local sends,
 * and AWS's default) writes `claimsOverrideDetails`, V2 writes `claimsAndScopeOverrideDetails`.
 * Only the ID token gets them: it is the token the API accepts, and V1 cannot touch access tokens.
 * Two short claims keep the token small; authorisation never relies on them (the control DB does).
 */
export function withTenantClaims<E extends PreTokenEvent>(event: E, claims: ActiveTenantClaims | null): E {
  const add: Record<string, string> = claims
    ? { [TENANT_CLAIMS.tenantId]: claims.tenantId, [TENANT_CLAIMS.role]: claims.role }
    : {};
  if (event.version === '2') {
    const v2 = event as PreTokenGenerationV2TriggerEvent;
    v2.response = {
      claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToAddOrOverride: add } },
    };
    return event;
  }
  const v1 = event as PreTokenGenerationTriggerEvent;
  v1.response = { claimsOverrideDetails: { claimsToAddOrOverride: add } };
  return event;
}
