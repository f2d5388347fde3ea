import type { PreTokenGenerationTriggerEvent, PreTokenGenerationV2TriggerEvent } from 'aws-lambda';
import { PLATFORM_GROUPS } from '#shared/domain/permissions';
import type { PreTokenEvent } from '#shared/identity/pre-token';

/**
 * MFA for platform staff (docs/identity-and-access.md, "MFA for platform staff"). Cognito requires
 * MFA per pool, never per group, so when the stage asks for it (`PLATFORM_GROUPS_REQUIRE_MFA`) the
 * pre-token-generation trigger leaves `platform-admin` and `finance` out of the token of a user
 * who has no second factor: no platform route opens for them, tenant routes are unaffected.
 */

/** Whether a user of the pool has a second factor (AdminGetUser's UserMFASettingList). */
export interface MfaStatus {
  hasSecondFactor(userPoolId: string, userName: string): Promise<boolean>;
}

const isPlatformGroup = (group: string) => (PLATFORM_GROUPS as readonly string[]).includes(group);

/**
 * The groups the token may carry: all of them, unless the setting is on, the user is in a
 * platform group and has no second factor (or the pool cannot say: refused, not assumed).
 */
export async function groupsForToken(
  groups: readonly string[],
  requireMfa: boolean,
  hasSecondFactor: () => Promise<boolean>,
): Promise<string[] | null> {
  if (!requireMfa || !groups.some(isPlatformGroup)) return null;
  const enrolled = await hasSecondFactor().catch(() => false);
  return enrolled ? null : groups.filter((group) => !isPlatformGroup(group));
}

/** Replaces the token's groups (`groupOverrideDetails`), keeping the claims already set. */
export function withGroups<E extends PreTokenEvent>(event: E, groups: string[]): E {
  if (event.version === '2') {
    const v2 = event as PreTokenGenerationV2TriggerEvent;
    v2.response = {
      claimsAndScopeOverrideDetails: {
        ...v2.response?.claimsAndScopeOverrideDetails,
        groupOverrideDetails: { groupsToOverride: groups },
      },
    };
    return event;
  }
  const v1 = event as PreTokenGenerationTriggerEvent;
  v1.response = {
    claimsOverrideDetails: {
      ...v1.response?.claimsOverrideDetails,
      groupOverrideDetails: { groupsToOverride: groups },
    },
  };
  return event;
}
