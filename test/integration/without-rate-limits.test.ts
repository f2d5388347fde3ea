import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { newActor, newTenant } from '../support/actors.ts';
import { type RunningPlatform, startPlatformProcess } from '../support/platform-process.ts';
import { expectStatus } from '../support/tenancy.ts';

/**
 * `npm start -- --without-rate-limits`, the benchmarks' "enforcement off" baseline
 * (docs/local-platform.md): no function gets the limits table, so a tenant is served past its
 * burst, and its answers carry no RateLimit header fields.
 */
describe('a local platform started --without-rate-limits', () => {
  let work: string;
  let platform: RunningPlatform | undefined;
  let client: LocalClient | undefined;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'tenantry-without-rate-limits-'));
    platform = await startPlatformProcess(
      path.join(work, 'state'),
      90_000,
      [],
      ['--without-consumers', '--without-rate-limits'],
    );
    client = new LocalClient(platform.info);
  });

  afterAll(async () => {
    client?.close();
    await platform?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('answers a tenant past its burst with 200s and no RateLimit fields', async () => {
    if (!client) throw new Error('the platform did not start');
    const [admin, owner] = await Promise.all([
      newActor(client, 'unlimited-admin', { groups: ['platform-admin'] }),
      newActor(client, 'unlimited-owner'),
    ]);
    const { tenantId } = await newTenant(owner, 'Unlimited');
    expectStatus(
      await admin.call('PUT', `/tenants/${tenantId}/plan`, {
        plan: 'generous',
        overrides: { requestsPerSecond: 1, burst: 2 },
      }),
      200,
    );

    const answers = await Promise.all(
      Array.from({ length: 10 }, () => owner.call('GET', `/tenants/${tenantId}/databases`)),
    );

    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(answers.map((r) => r.headers.get('ratelimit'))).toEqual(Array(10).fill(null));
    // The limits are still the tenant's effective limits; only their enforcement is off.
    const quotas = expectStatus(await owner.call('GET', `/tenants/${tenantId}/quotas`), 200);
    expect(quotas.body).toMatchObject({ limits: { requestsPerSecond: 1, burst: 2 } });
  });
});
