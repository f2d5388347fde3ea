import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type Filter,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARN_PREFIX,
  arnPattern,
  type StandIn,
  sdkError,
  startStandIn,
} from '../../support/secrets-manager.ts';

// Contract tests of the Secrets Manager stand-in, through the real SecretsManagerClient
// (@aws-sdk/client-secrets-manager 3.1164). Each block cites the API reference page whose
// behaviour it checks: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_<Operation>.html
// Error codes and HTTP 400: https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html

const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const DAY_MS = 86_400_000;
const token = (n: number) => `${String(n).padStart(8, '0')}-0000-4000-8000-000000000000`;

let sm: StandIn;
beforeAll(async () => {
  sm = await startStandIn();
});
afterAll(async () => {
  await sm.close();
});

const create = (Name: string, SecretString = 'value', extra: Partial<CreateSecretCommand['input']> = {}) =>
  sm.client.send(new CreateSecretCommand({ Name, SecretString, ...extra }));
const value = async (SecretId: string) =>
  (await sm.client.send(new GetSecretValueCommand({ SecretId }))).SecretString;

describe('CreateSecret (API_CreateSecret)', () => {
  it('returns an ARN of the name, "-" and six random characters, and the token as VersionId', async () => {
    const created = await create('create/basic', 's3cret', { ClientRequestToken: token(1) });

    expect(created.ARN).toMatch(arnPattern('create/basic'));
    expect(created.Name).toBe('create/basic');
    expect(created.VersionId).toBe(token(1));
  });

  it('ignores a retry with the same ClientRequestToken and value (idempotent)', async () => {
    const first = await create('create/retry', 'v', { ClientRequestToken: token(2) });

    const retried = await create('create/retry', 'v', { ClientRequestToken: token(2) });

    expect(retried.ARN).toBe(first.ARN);
    expect(retried.VersionId).toBe(token(2));
  });

  it('refuses the name again with ResourceExistsException, for another token or another value', async () => {
    await create('create/taken', 'v', { ClientRequestToken: token(3) });

    const other = await sdkError(create('create/taken', 'v', { ClientRequestToken: token(4) }));
    const changed = await sdkError(create('create/taken', 'changed', { ClientRequestToken: token(3) }));

    expect(other).toBeInstanceOf(ResourceExistsException);
    expect(other.message).toBe('The operation failed because the secret create/taken already exists.');
    expect(other.$metadata.httpStatusCode).toBe(400);
    expect(changed).toBeInstanceOf(ResourceExistsException);
    expect(await value('create/taken')).toBe('v');
  });

  it('refuses names outside ASCII letters, digits and /_+=.@- with ValidationException, creating nothing', async () => {
    const error = await sdkError(create('bad name'));

    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe(
      'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
    );
    const listed = await sm.client.send(
      new ListSecretsCommand({ Filters: [{ Key: 'name', Values: ['bad'] }] }),
    );
    expect(listed.SecretList).toEqual([]);
  });

  it('checks lengths as the API does (Name ≤ 512, SecretString ≤ 65,536, not echoing the value, token 32–64)', async () => {
    const long = await sdkError(create('n'.repeat(513)));
    const big = await sdkError(create('create/big', 'x'.repeat(65_537)));
    const shortToken = await sdkError(create('create/token', 'v', { ClientRequestToken: 'too-short' }));

    expect(long.name).toBe('ValidationException');
    expect(long.message).toContain(
      "at 'name' failed to satisfy constraint: Member must have length less than or equal to 512",
    );
    expect(big.name).toBe('ValidationException');
    expect(big.message).toBe(
      "1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536",
    );
    expect(shortToken.message).toBe(
      "1 validation error detected: Value 'too-short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32",
    );
    expect(await sdkError(value('create/token'))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('gives a re-created name a new ARN', async () => {
    const first = await create('create/again');
    await sm.client.send(new DeleteSecretCommand({ SecretId: first.ARN, ForceDeleteWithoutRecovery: true }));

    const second = await create('create/again');

    expect(second.ARN).toMatch(arnPattern('create/again'));
    expect(second.ARN).not.toBe(first.ARN);
  });
});

describe('GetSecretValue (API_GetSecretValue)', () => {
  let arn: string;
  beforeAll(async () => {
    arn = (await create('get/db', '{"password":"p"}', { ClientRequestToken: token(10) })).ARN ?? '';
  });

  it('finds the secret by full ARN, partial ARN (no suffix) and name, at AWSCURRENT by default', async () => {
    for (const id of [arn, `${ARN_PREFIX}get/db`, 'get/db']) {
      const got = await sm.client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(got).toMatchObject({
        ARN: arn,
        Name: 'get/db',
        SecretString: '{"password":"p"}',
        VersionId: token(10),
      });
      expect(got.VersionStages).toEqual(['AWSCURRENT']);
      expect(got.CreatedDate).toEqual(sm.clock.now);
    }
  });

  it('answers ResourceNotFoundException for an unknown id, a name with the suffix, or another account', async () => {
    const suffix = arn.slice(arn.lastIndexOf('-'));
    for (const id of ['get/none', `get/db${suffix}`, arn.replace('000000000000', '111111111111')]) {
      const error = await sdkError(value(id));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toBe(NOT_FOUND);
    }
  });

  it('answers ResourceNotFoundException for a staging label no version carries', async () => {
    const error = await sdkError(
      sm.client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPENDING' })),
    );

    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('PutSecretValue (API_PutSecretValue)', () => {
  it('makes the new version AWSCURRENT and the one before AWSPREVIOUS', async () => {
    await create('put/rotating', 'one', { ClientRequestToken: token(20) });

    const put = await sm.client.send(
      new PutSecretValueCommand({
        SecretId: 'put/rotating',
        SecretString: 'two',
        ClientRequestToken: token(21),
      }),
    );

    expect(put).toMatchObject({ VersionId: token(21), VersionStages: ['AWSCURRENT'] });
    expect(await value('put/rotating')).toBe('two');
    const previous = await sm.client.send(
      new GetSecretValueCommand({ SecretId: 'put/rotating', VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ SecretString: 'one', VersionId: token(20) });
    const described = await sm.client.send(new DescribeSecretCommand({ SecretId: 'put/rotating' }));
    expect(described.VersionIdsToStages).toEqual({
      [token(20)]: ['AWSPREVIOUS'],
      [token(21)]: ['AWSCURRENT'],
    });
  });

  it('succeeds and does nothing for a known token with the same value, refuses one with another value', async () => {
    await create('put/idempotent', 'one', { ClientRequestToken: token(22) });

    await sm.client.send(
      new PutSecretValueCommand({
        SecretId: 'put/idempotent',
        SecretString: 'one',
        ClientRequestToken: token(22),
      }),
    );
    const error = await sdkError(
      sm.client.send(
        new PutSecretValueCommand({
          SecretId: 'put/idempotent',
          SecretString: 'two',
          ClientRequestToken: token(22),
        }),
      ),
    );

    expect(error).toBeInstanceOf(ResourceExistsException);
    expect(await value('put/idempotent')).toBe('one');
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    const error = await sdkError(
      sm.client.send(new PutSecretValueCommand({ SecretId: 'put/none', SecretString: 'x' })),
    );

    expect(error).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('DescribeSecret, TagResource, UntagResource (API_DescribeSecret, API_TagResource, API_UntagResource)', () => {
  it('describes without the value, and tags are added, overwritten and removed', async () => {
    await create('tags/one', 'hidden-value', {
      Description: 'Tenant db',
      Tags: [{ Key: 'TenantId', Value: 't1' }],
    });

    await sm.client.send(
      new TagResourceCommand({
        SecretId: 'tags/one',
        Tags: [
          { Key: 'Env', Value: 'dev' },
          { Key: 'TenantId', Value: 't2' },
        ],
      }),
    );
    const tagged = await sm.client.send(new DescribeSecretCommand({ SecretId: 'tags/one' }));
    await sm.client.send(new UntagResourceCommand({ SecretId: 'tags/one', TagKeys: ['Env'] }));
    const untagged = await sm.client.send(new DescribeSecretCommand({ SecretId: 'tags/one' }));

    expect(tagged).toMatchObject({ Name: 'tags/one', Description: 'Tenant db' });
    expect(tagged.Tags).toEqual([
      { Key: 'TenantId', Value: 't2' },
      { Key: 'Env', Value: 'dev' },
    ]);
    expect(JSON.stringify(tagged)).not.toContain('hidden-value');
    expect(untagged.Tags).toEqual([{ Key: 'TenantId', Value: 't2' }]);
    expect(untagged.DeletedDate).toBeUndefined();
  });

  it('answers ResourceNotFoundException for a secret that does not exist', async () => {
    for (const command of [
      new DescribeSecretCommand({ SecretId: 'tags/none' }),
      new TagResourceCommand({ SecretId: 'tags/none', Tags: [{ Key: 'a', Value: 'b' }] }),
      new UntagResourceCommand({ SecretId: 'tags/none', TagKeys: ['a'] }),
    ]) {
      // biome-ignore lint/suspicious/noExplicitAny: one send over three command types; each is checked by the SDK at run time
      expect(await sdkError(sm.client.send(command as any))).toBeInstanceOf(ResourceNotFoundException);
    }
  });
});

describe('DeleteSecret and RestoreSecret (API_DeleteSecret, API_RestoreSecret)', () => {
  const remove = (input: DeleteSecretCommand['input']) => sm.client.send(new DeleteSecretCommand(input));

  it('schedules the deletion 30 days out by default; the secret cannot be read, nor its name reused', async () => {
    const { ARN } = await create('delete/window');

    const deleted = await remove({ SecretId: 'delete/window' });

    expect(deleted).toMatchObject({ ARN, Name: 'delete/window' });
    expect(deleted.DeletionDate).toEqual(new Date(sm.clock.now.getTime() + 30 * DAY_MS));
    const read = await sdkError(value('delete/window'));
    expect(read).toBeInstanceOf(InvalidRequestException);
    expect(read.message).toBe(
      "You can't perform this operation on the secret because it was marked for deletion.",
    );
    const reused = await sdkError(create('delete/window'));
    expect(reused).toBeInstanceOf(InvalidRequestException);
    expect(reused.message).toBe(
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
    expect(await sdkError(remove({ SecretId: 'delete/window' }))).toBeInstanceOf(InvalidRequestException);
    expect(
      await sdkError(
        sm.client.send(
          new TagResourceCommand({ SecretId: 'delete/window', Tags: [{ Key: 'a', Value: 'b' }] }),
        ),
      ),
    ).toBeInstanceOf(InvalidRequestException);
    const described = await sm.client.send(new DescribeSecretCommand({ SecretId: 'delete/window' }));
    expect(described.DeletedDate).toEqual(deleted.DeletionDate);
  });

  it('restores a secret in its recovery window', async () => {
    await create('delete/restored', 'kept');
    await remove({ SecretId: 'delete/restored', RecoveryWindowInDays: 7 });

    const restored = await sm.client.send(new RestoreSecretCommand({ SecretId: 'delete/restored' }));

    expect(restored.Name).toBe('delete/restored');
    expect(await value('delete/restored')).toBe('kept');
    expect(
      await sdkError(sm.client.send(new RestoreSecretCommand({ SecretId: 'delete/none' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });

  it('accepts a window of 7 to 30 days only', async () => {
    await create('delete/range');

    for (const days of [6, 31]) {
      const error = await sdkError(remove({ SecretId: 'delete/range', RecoveryWindowInDays: days }));
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error.message).toBe('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
    }
    const deleted = await remove({ SecretId: 'delete/range', RecoveryWindowInDays: 7 });
    expect(deleted.DeletionDate).toEqual(new Date(sm.clock.now.getTime() + 7 * DAY_MS));
  });

  it('refuses ForceDeleteWithoutRecovery together with RecoveryWindowInDays, deleting nothing', async () => {
    await create('delete/both', 'still-here');

    const error = await sdkError(
      remove({ SecretId: 'delete/both', ForceDeleteWithoutRecovery: true, RecoveryWindowInDays: 7 }),
    );

    expect(error).toBeInstanceOf(InvalidParameterException);
    expect(error.message).toBe(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
    expect(await value('delete/both')).toBe('still-here');
  });

  it('deletes at once with ForceDeleteWithoutRecovery, also a secret in its window, and the name is free', async () => {
    await create('delete/forced');
    await create('delete/forced-later');
    await remove({ SecretId: 'delete/forced-later' });

    await remove({ SecretId: 'delete/forced', ForceDeleteWithoutRecovery: true });
    await remove({ SecretId: 'delete/forced-later', ForceDeleteWithoutRecovery: true });

    expect(await sdkError(value('delete/forced'))).toBeInstanceOf(ResourceNotFoundException);
    expect(
      await sdkError(sm.client.send(new DescribeSecretCommand({ SecretId: 'delete/forced-later' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect((await create('delete/forced-later', 'reborn')).ARN).toMatch(arnPattern('delete/forced-later'));
  });

  it('forcibly deletes a missing secret without error, and refuses a plain delete of one', async () => {
    const forced = await remove({ SecretId: 'delete/missing', ForceDeleteWithoutRecovery: true });

    expect(forced.Name).toBe('delete/missing');
    expect(await sdkError(remove({ SecretId: 'delete/missing' }))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('purges the secret once the recovery window has passed', async () => {
    await create('delete/expiring');
    await remove({ SecretId: 'delete/expiring', RecoveryWindowInDays: 7 });

    sm.clock.now = new Date(sm.clock.now.getTime() + 7 * DAY_MS + 1);

    expect(
      await sdkError(sm.client.send(new DescribeSecretCommand({ SecretId: 'delete/expiring' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
    expect((await create('delete/expiring')).Name).toBe('delete/expiring');
  });
});

describe('ListSecrets (API_ListSecrets, API_Filter)', () => {
  const names = (list: { Name?: string }[] | undefined) => (list ?? []).map((entry) => entry.Name);
  const list = async (...filters: Filter[]) =>
    names((await sm.client.send(new ListSecretsCommand({ Filters: filters }))).SecretList).filter((n) =>
      n?.startsWith('ls'),
    );

  beforeAll(async () => {
    await create('ls/Alpha', 'a', {
      Description: 'Payroll DB',
      Tags: [{ Key: 'TenantId', Value: 't_alpha' }],
    });
    await create('ls/alpha2', 'b', { Tags: [{ Key: 'Team', Value: 'ops' }] });
    await create('ls/beta', 'c', { Description: 'payroll cache' });
    await create('ls/gone', 'd');
    await sm.client.send(new DeleteSecretCommand({ SecretId: 'ls/gone' }));
  });

  it('filters by name, tag key and tag value with case-sensitive prefixes', async () => {
    expect(await list({ Key: 'name', Values: ['ls/alpha'] })).toEqual(['ls/alpha2']);
    expect(await list({ Key: 'name', Values: ['ls/A', 'ls/b'] })).toEqual(['ls/Alpha', 'ls/beta']);
    expect(await list({ Key: 'tag-key', Values: ['Ten'] })).toEqual(['ls/Alpha']);
    expect(await list({ Key: 'tag-value', Values: ['op'] })).toEqual(['ls/alpha2']);
    expect(await list({ Key: 'tag-value', Values: ['OP'] })).toEqual([]);
  });

  it('filters descriptions by prefix without case, "all" by words, and negates with "!"', async () => {
    expect(await list({ Key: 'description', Values: ['PAYROLL'] })).toEqual(['ls/Alpha', 'ls/beta']);
    expect(await list({ Key: 'all', Values: ['cache'] })).toEqual(['ls/beta']);
    expect(await list({ Key: 'name', Values: ['ls/'] }, { Key: 'name', Values: ['!ls/a'] })).toEqual([
      'ls/Alpha',
      'ls/beta',
    ]);
  });

  it('leaves out secrets in their recovery window unless IncludePlannedDeletion is set', async () => {
    const planned = await sm.client.send(
      new ListSecretsCommand({
        IncludePlannedDeletion: true,
        Filters: [{ Key: 'name', Values: ['ls/gone'] }],
      }),
    );

    expect(await list({ Key: 'name', Values: ['ls/gone'] })).toEqual([]);
    expect(names(planned.SecretList)).toEqual(['ls/gone']);
    expect(planned.SecretList?.[0]?.DeletedDate).toBeInstanceOf(Date);
  });

  it('pages with MaxResults and NextToken, every secret once, values left out', async () => {
    const seen: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await sm.client.send(
        new ListSecretsCommand({ MaxResults: 2, NextToken, Filters: [{ Key: 'name', Values: ['ls/'] }] }),
      );
      expect(page.SecretList?.length).toBeLessThanOrEqual(2);
      expect(JSON.stringify(page.SecretList)).not.toContain('SecretString');
      seen.push(...(names(page.SecretList) as string[]));
      NextToken = page.NextToken;
    } while (NextToken);

    expect(seen.sort()).toEqual(['ls/Alpha', 'ls/alpha2', 'ls/beta']);
  });

  it('refuses MaxResults outside 1–100, an unknown filter key, and a forged NextToken', async () => {
    for (const MaxResults of [0, 101]) {
      expect((await sdkError(sm.client.send(new ListSecretsCommand({ MaxResults })))).name).toBe(
        'ValidationException',
      );
    }
    const badKey = await sdkError(
      sm.client.send(
        new ListSecretsCommand({ Filters: [{ Key: 'colour' as Filter['Key'], Values: ['x'] }] }),
      ),
    );
    expect(badKey.name).toBe('ValidationException');
    const forged = await sdkError(sm.client.send(new ListSecretsCommand({ NextToken: 'not-a-token' })));
    expect(forged).toBeInstanceOf(InvalidNextTokenException);
    expect(forged.message).toBe('The NextToken value is invalid.');
  });
});

describe('persistence', () => {
  it('keeps every secret across a restart, in a 0600 file in a 0700 folder, written atomically', async () => {
    const { ARN } = await create('persist/db', 'durable', { Tags: [{ Key: 'TenantId', Value: 't9' }] });
    await create('persist/planned');
    await sm.client.send(new DeleteSecretCommand({ SecretId: 'persist/planned' }));

    await sm.restart();

    expect(await value(ARN ?? '')).toBe('durable');
    const described = await sm.client.send(new DescribeSecretCommand({ SecretId: 'persist/db' }));
    expect(described.Tags).toEqual([{ Key: 'TenantId', Value: 't9' }]);
    expect(await sdkError(value('persist/planned'))).toBeInstanceOf(InvalidRequestException);
    const file = path.join(sm.dataDir, 'secrets-manager.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(sm.dataDir)).mode & 0o777).toBe(0o700);
    expect((await readdir(sm.dataDir)).filter((entry) => entry.endsWith('.tmp'))).toEqual([]);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ version: 1 });
  });
});
