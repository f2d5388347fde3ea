import 'aws-sdk-client-mock-vitest/extend';
import {
  AdminCreateUserCommand,
  CognitoIdentityProviderClient,
  InternalErrorException,
  ListUsersCommand,
  UsernameExistsException,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CognitoIdentityAdmin } from '#shared/adapters/cognito-identity-admin';

const client = new CognitoIdentityProviderClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
});
const cognito = mockClient(client);
const POOL = 'eu-west-1_AbCdEfGhI';
const admin = new CognitoIdentityAdmin(client, POOL);
const SUB = '0b6a5d4e-8f7c-4a3b-9e2d-1c0f9a8b7c6d';

const userWith = (attributes: Record<string, string>) => ({
  Username: attributes.email,
  Attributes: Object.entries(attributes).map(([Name, Value]) => ({ Name, Value })),
  Enabled: true,
  UserStatus: 'CONFIRMED' as const,
});

beforeEach(() => {
  cognito.reset();
});

describe('CognitoIdentityAdmin.findByEmail', () => {
  it('sends exactly one ListUsers filtered by email, limit 1, and returns the sub', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [userWith({ sub: SUB, email: 'ada@example.com' })] });
    await expect(admin.findByEmail('ada@example.com')).resolves.toEqual({
      userId: SUB,
      email: 'ada@example.com',
    });
    expect(cognito).toHaveReceivedCommandTimes(ListUsersCommand, 1);
    expect(cognito).toHaveReceivedCommandWith(ListUsersCommand, {
      UserPoolId: POOL,
      Filter: 'email = "ada@example.com"',
      Limit: 1,
    });
    expect(cognito.calls()).toHaveLength(1);
  });

  it('returns null when no user has the email', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await expect(admin.findByEmail('nobody@example.com')).resolves.toBeNull();
    cognito.on(ListUsersCommand).resolves({});
    await expect(admin.findByEmail('nobody@example.com')).resolves.toBeNull();
  });

  it('a user without a sub attribute is no user', async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [userWith({ email: 'odd@example.com' })] });
    await expect(admin.findByEmail('odd@example.com')).resolves.toBeNull();
  });

  it("keeps the pool's spelling of the email when it has one", async () => {
    cognito.on(ListUsersCommand).resolves({ Users: [userWith({ sub: SUB, email: 'Ada@Example.com' })] });
    await expect(admin.findByEmail('ada@example.com')).resolves.toEqual({
      userId: SUB,
      email: 'Ada@Example.com',
    });
  });

  it('lets other Cognito errors through', async () => {
    cognito.on(ListUsersCommand).rejects(new InternalErrorException({ message: 'boom', $metadata: {} }));
    await expect(admin.findByEmail('ada@example.com')).rejects.toBeInstanceOf(InternalErrorException);
  });
});

describe('CognitoIdentityAdmin.invite', () => {
  it('sends exactly one AdminCreateUser with the email as username, verified, invited by email', async () => {
    cognito.on(AdminCreateUserCommand).resolves({
      User: userWith({ sub: SUB, email: 'new@example.com', email_verified: 'true' }),
    });
    await expect(admin.invite('new@example.com')).resolves.toEqual({ userId: SUB, email: 'new@example.com' });
    expect(cognito).toHaveReceivedCommandTimes(AdminCreateUserCommand, 1);
    const [call] = cognito.commandCalls(AdminCreateUserCommand);
    expect(call?.args[0].input).toEqual({
      UserPoolId: POOL,
      Username: 'new@example.com',
      UserAttributes: [
        { Name: 'email', Value: 'new@example.com' },
        { Name: 'email_verified', Value: 'true' },
      ],
      DesiredDeliveryMediums: ['EMAIL'],
    });
    // No temporary password of ours, no suppressed message: Cognito makes and sends the invitation.
    expect(call?.args[0].input).not.toHaveProperty('TemporaryPassword');
    expect(call?.args[0].input).not.toHaveProperty('MessageAction');
    expect(cognito).not.toHaveReceivedCommand(ListUsersCommand);
  });

  it('fails loudly when Cognito answers without a sub', async () => {
    cognito.on(AdminCreateUserCommand).resolves({ User: userWith({ email: 'new@example.com' }) });
    await expect(admin.invite('new@example.com')).rejects.toThrow(/sub/);
  });

  it('UsernameExistsException (signed up meanwhile) falls back to the lookup and links that user', async () => {
    cognito
      .on(AdminCreateUserCommand)
      .rejects(new UsernameExistsException({ message: 'User account already exists', $metadata: {} }));
    cognito.on(ListUsersCommand).resolves({ Users: [userWith({ sub: SUB, email: 'race@example.com' })] });
    await expect(admin.invite('race@example.com')).resolves.toEqual({
      userId: SUB,
      email: 'race@example.com',
    });
    expect(cognito.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'AdminCreateUserCommand',
      'ListUsersCommand',
    ]);
    expect(cognito).toHaveReceivedCommandWith(AdminCreateUserCommand, {
      UserPoolId: POOL,
      Username: 'race@example.com',
    });
    expect(cognito).toHaveReceivedCommandWith(ListUsersCommand, {
      UserPoolId: POOL,
      Filter: 'email = "race@example.com"',
      Limit: 1,
    });
    expect(cognito.calls()).toHaveLength(2);
  });

  it('UsernameExistsException with nobody found by the lookup rethrows the original error', async () => {
    const exists = new UsernameExistsException({ message: 'User account already exists', $metadata: {} });
    cognito.on(AdminCreateUserCommand).rejects(exists);
    cognito.on(ListUsersCommand).resolves({ Users: [] });
    await expect(admin.invite('ghost@example.com')).rejects.toBe(exists);
  });

  it('other errors are not turned into a lookup', async () => {
    cognito
      .on(AdminCreateUserCommand)
      .rejects(new InternalErrorException({ message: 'boom', $metadata: {} }));
    await expect(admin.invite('new@example.com')).rejects.toBeInstanceOf(InternalErrorException);
    expect(cognito).not.toHaveReceivedCommand(ListUsersCommand);
  });
});
