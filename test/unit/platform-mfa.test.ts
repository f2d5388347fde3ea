import {
  AdminGetUserCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { CognitoMfaStatus } from '#shared/adapters/cognito-mfa-status';
import { groupsForToken, withGroups } from '#shared/identity/platform-mfa';
import type { PreTokenEvent } from '#shared/identity/pre-token';

const enrolled = async () => true;
const notEnrolled = async () => false;

describe('MFA for platform groups in the pre-token-generation trigger', () => {
  it('changes nothing when the setting is off, or for a user in no platform group', async () => {
    expect(await groupsForToken(['platform-admin'], false, notEnrolled)).toBeNull();
    expect(await groupsForToken(['other'], true, notEnrolled)).toBeNull();
    expect(await groupsForToken(['finance', 'other'], true, enrolled)).toBeNull();
  });

  it('leaves the platform groups out for a user without a second factor, or when the pool cannot say', async () => {
    expect(await groupsForToken(['finance', 'other', 'platform-admin'], true, notEnrolled)).toEqual([
      'other',
    ]);
    expect(
      await groupsForToken(['platform-admin'], true, async () => {
        throw new Error('throttled');
      }),
    ).toEqual([]);
  });

  it('overrides the groups in both event versions, keeping the claims already set', () => {
    const v2 = withGroups(
      {
        version: '2',
        response: {
          claimsAndScopeOverrideDetails: { idTokenGeneration: { claimsToAddOrOverride: { a: 'b' } } },
        },
      } as unknown as PreTokenEvent,
      [],
    );
    expect(v2.response).toEqual({
      claimsAndScopeOverrideDetails: {
        idTokenGeneration: { claimsToAddOrOverride: { a: 'b' } },
        groupOverrideDetails: { groupsToOverride: [] },
      },
    });
    const v1 = withGroups(
      {
        version: '1',
        response: { claimsOverrideDetails: { claimsToAddOrOverride: {} } },
      } as unknown as PreTokenEvent,
      ['other'],
    );
    expect(v1.response).toEqual({
      claimsOverrideDetails: {
        claimsToAddOrOverride: {},
        groupOverrideDetails: { groupsToOverride: ['other'] },
      },
    });
  });

  it("reads the user's activated MFA options from AdminGetUser", async () => {
    // Arrange
    const cognito = mockClient(CognitoIdentityProviderClient);
    cognito
      .on(AdminGetUserCommand, { Username: 'with' })
      .resolves({ Username: 'with', UserMFASettingList: ['SOFTWARE_TOKEN_MFA'] })
      .on(AdminGetUserCommand, { Username: 'without' })
      .resolves({ Username: 'without' });
    const status = new CognitoMfaStatus(new CognitoIdentityProviderClient({ region: 'us-east-1' }));

    // Act / Assert
    expect(await status.hasSecondFactor('pool', 'with')).toBe(true);
    expect(await status.hasSecondFactor('pool', 'without')).toBe(false);
    cognito.restore();
  });
});
