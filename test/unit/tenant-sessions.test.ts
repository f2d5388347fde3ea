import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TENANT_SESSION_TAG, TenantSessions } from '#shared/adapters/tenant-sessions';

/**
 * What the tenant-session cache sends to STS and when: one AssumeRole per tenant and session
 * lifetime, tagged with the tenant, renewed shortly before expiry. (The STS stand-in's own tests
 * prove what STS answers; this proves what the adapter asks.)
 */

const ROLE = 'arn:aws:iam::000000000000:role/TenantAccessRole';
const sts = mockClient(STSClient);
let clock = Date.parse('2026-12-02T10:00:00Z');

afterEach(() => {
  sts.reset();
});

function answersFor(lifetimeMs: number) {
  let issued = 0;
  sts.on(AssumeRoleCommand).callsFake(async () => {
    issued += 1;
    return {
      Credentials: {
        AccessKeyId: `ASIA${String(issued).padStart(16, '0')}`,
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(clock + lifetimeMs),
      },
    };
  });
}

const sessions = (options: Partial<ConstructorParameters<typeof TenantSessions>[0]> = {}) =>
  new TenantSessions({
    sts: new STSClient({ region: 'us-east-1' }),
    roleArn: ROLE,
    now: () => clock,
    ...options,
  });

describe('tenant sessions', () => {
  it('assumes the tenant-access role with the tenant as session tag and session name, for at most an hour', async () => {
    answersFor(3_600_000);
    const cache = sessions();

    const credentials = await cache.credentialsFor('t_aaaaaaaaaaaaaaaaaaaa');

    expect(credentials.accessKeyId).toMatch(/^ASIA/);
    const [call] = sts.commandCalls(AssumeRoleCommand);
    expect(call?.args[0].input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 't_aaaaaaaaaaaaaaaaaaaa',
      DurationSeconds: 3600,
      Tags: [{ Key: TENANT_SESSION_TAG, Value: 't_aaaaaaaaaaaaaaaaaaaa' }],
    });
  });

  it('reuses a tenant session until shortly before it expires, then renews it', async () => {
    answersFor(3_600_000);
    const cache = sessions({ renewBeforeMs: 300_000 });
    const first = await cache.credentialsFor('t_a');
    clock += 3_600_000 - 300_001;
    expect(await cache.credentialsFor('t_a')).toBe(first);
    expect(cache.assumed).toBe(1);

    clock += 2;
    const renewed = await cache.credentialsFor('t_a');
    expect(renewed).not.toBe(first);
    expect(cache.assumed).toBe(2);
  });

  it('keeps one session per tenant, and asks once for concurrent requests of one tenant', async () => {
    answersFor(3_600_000);
    const cache = sessions();
    const [a1, a2, b] = await Promise.all([
      cache.credentialsFor('t_a'),
      cache.credentialsFor('t_a'),
      cache.credentialsFor('t_b'),
    ]);
    expect(a1).toBe(a2);
    expect(b.accessKeyId).not.toBe(a1.accessKeyId);
    expect(cache.assumed).toBe(2);
  });

  it('does not cache a refusal: the next request asks again', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const cache = sessions();
    await expect(cache.credentialsFor('t_a')).rejects.toThrow('not authorized');
    answersFor(3_600_000);
    await expect(cache.credentialsFor('t_a')).resolves.toMatchObject({ sessionToken: 'token' });
    expect(cache.assumed).toBe(2);
  });

  it('refuses an answer without credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(sessions().credentialsFor('t_a')).rejects.toThrow(/without credentials/);
  });

  it('keeps at most maxTenants sessions, forgetting the least recently used', async () => {
    answersFor(3_600_000);
    const cache = sessions({ maxTenants: 2 });
    await cache.credentialsFor('t_a');
    await cache.credentialsFor('t_b');
    await cache.credentialsFor('t_a');
    await cache.credentialsFor('t_c'); // forgets t_b, the least recently used
    expect(cache.assumed).toBe(3);
    await cache.credentialsFor('t_a');
    expect(cache.assumed).toBe(3);
    await cache.credentialsFor('t_b');
    expect(cache.assumed).toBe(4);
  });
});
