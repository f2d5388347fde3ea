import { CognitoIdentityProviderClient, ListUsersCommand } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { accessDeniedMessage } from '#infra/local/iam/access';
import { LOCAL_BACKUPS_KEY_ID } from '#infra/local/iam/local-names';
import { loadAssembly, type PlatformIam, platformIam } from '#infra/local/iam/platform-iam';
import type { PlatformInfo } from '#infra/local/platform-info';
import { secretNameFor } from '#shared/provisioning/names';
import { clientFor, newActor, newTenant } from '../support/actors.ts';

/*
 * Issue 11, IAM enforcement: every local function signs its calls with its own access key, and
 * every stand-in judges the call by that function's role in the synthesized templates. For every
 * function, each probe below is sent through the real stand-in with the function's key; it must
 * succeed exactly when the role allows it, and a refusal must be the service's AccessDenied with
 * AWS's message (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
 */

const info: PlatformInfo = inject('platform');

interface Probe {
  readonly name: string;
  /** The question the stand-in must ask. */
  readonly action: string;
  readonly resource: () => string;
  readonly context?: () => Record<string, string>;
  /**
   * A second question the stand-in asks once the first is allowed: the Data API reads the secret
   * it is given with the caller's credentials.
   */
  readonly andThen?: { readonly action: string; readonly resource: () => string };
  /** Sends the call with the function's credentials; resolves when the service answered anything but a refusal. */
  readonly send: (credentials: Credentials) => Promise<unknown>;
  /** The error name of the service's refusal. */
  readonly denial: string;
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const region = info.region;
const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:000000000000:${resource}`;
const tableArn = (name: string) => arn('dynamodb', `table/${name}`);

/** Sends, and turns an answer into `allowed` / `denied` (anything else the service answered counts as allowed). */
async function outcome(
  probe: Probe,
  credentials: Credentials,
): Promise<{ allowed: boolean; message?: string }> {
  try {
    await probe.send(credentials);
    return { allowed: true };
  } catch (error) {
    const failure = error as Error;
    if (failure.name === probe.denial) return { allowed: false, message: failure.message };
    return { allowed: true };
  }
}

describe('IAM enforcement on the local platform: every function, every stand-in', () => {
  let iam: PlatformIam;
  let tenantSecretArn: string;
  let probes: Probe[];

  beforeAll(async () => {
    // Arrange: the same templates and names the platform reads, and a tenant with its secret
    const assembly = await loadAssembly({ stage: info.stage, repoRoot: process.cwd() });
    iam = platformIam(assembly, {
      auditTable: info.tables.audit,
      usageTable: info.tables.usage,
      limitsTable: info.tables.limits,
      userPoolId: info.userPoolId,
      masterSecretArn: info.dataApi.masterSecretArn,
      controlSecretArn: info.dataApi.controlSecretArn,
      poolSecretArn: info.dataApi.poolSecretArn,
      exportsBucket: info.resources.exportsBucket,
      telemetryDeadLetterQueue: info.resources.telemetryDeadLetterQueue,
      backupsKeyId: LOCAL_BACKUPS_KEY_ID,
    });
    const owner = await newActor(clientFor(info), 'iam-owner');
    const { tenantId } = await newTenant(owner);
    const admin = new SecretsManagerClient({
      region,
      endpoint: info.secretsManager.endpoint,
      credentials: { accessKeyId: 'operator', secretAccessKey: 'operator' },
    });
    const secret = await admin.send(
      new GetSecretValueCommand({ SecretId: secretNameFor(info.stage, tenantId) }),
    );
    tenantSecretArn = secret.ARN ?? '';
    admin.destroy();

    const once = async <T extends { destroy(): void; send(command: never): Promise<unknown> }>(
      made: T,
      command: unknown,
    ) => {
      try {
        return await made.send(command as never);
      } finally {
        made.destroy();
      }
    };
    const sm = (credentials: Credentials) =>
      new SecretsManagerClient({ region, endpoint: info.secretsManager.endpoint, credentials });
    const dynamo = (credentials: Credentials) =>
      new DynamoDBClient({ region, endpoint: info.endpoints.dynamodb, credentials, maxAttempts: 1 });
    // The tag the provisioning saga puts on every tenant secret.
    const tenantTag = () => ({
      'secretsmanager:ResourceTag/tenantry:tenant-id': tenantId,
      'aws:ResourceTag/tenantry:tenant-id': tenantId,
    });
    probes = [
      {
        name: 'Secrets Manager GetSecretValue of the master secret',
        action: 'secretsmanager:GetSecretValue',
        resource: () => info.dataApi.masterSecretArn,
        send: (credentials) =>
          once(sm(credentials), new GetSecretValueCommand({ SecretId: info.dataApi.masterSecretArn })),
        denial: 'AccessDeniedException',
      },
      {
        name: "Secrets Manager GetSecretValue of a tenant's secret",
        action: 'secretsmanager:GetSecretValue',
        resource: () => tenantSecretArn,
        context: tenantTag,
        send: (credentials) =>
          once(sm(credentials), new GetSecretValueCommand({ SecretId: tenantSecretArn })),
        denial: 'AccessDeniedException',
      },
      {
        name: 'Secrets Manager GetSecretValue of the control application secret',
        action: 'secretsmanager:GetSecretValue',
        resource: () => info.dataApi.controlSecretArn,
        send: (credentials) =>
          once(sm(credentials), new GetSecretValueCommand({ SecretId: info.dataApi.controlSecretArn })),
        denial: 'AccessDeniedException',
      },
      {
        name: 'Data API ExecuteStatement on the control database as the application role',
        action: 'rds-data:ExecuteStatement',
        resource: () => info.dataApi.clusterArn,
        andThen: { action: 'secretsmanager:GetSecretValue', resource: () => info.dataApi.controlSecretArn },
        send: (credentials) =>
          once(
            new RDSDataClient({ region, endpoint: info.dataApi.endpoint, credentials, maxAttempts: 1 }),
            new ExecuteStatementCommand({
              resourceArn: info.dataApi.clusterArn,
              secretArn: info.dataApi.controlSecretArn,
              database: info.dataApi.database,
              sql: 'select 1',
            }),
          ),
        denial: 'AccessDeniedException',
      },
      {
        name: 'EventBridge PutEvents to the bus',
        action: 'events:PutEvents',
        resource: () => arn('events', `event-bus/${info.eventBusName}`),
        context: () => ({ 'events:source': 'tenantry.iam-probe', 'events:detail-type': 'Probe' }),
        // Not in the catalogue: an allowed call is answered per entry (InvalidArgument) and delivers nothing.
        send: (credentials) =>
          once(
            new EventBridgeClient({
              region,
              endpoint: info.endpoints.eventBridge,
              credentials,
              maxAttempts: 1,
            }),
            new PutEventsCommand({
              Entries: [
                {
                  EventBusName: info.eventBusName,
                  Source: 'tenantry.iam-probe',
                  DetailType: 'Probe',
                  Detail: '{}',
                },
              ],
            }),
          ),
        denial: 'AccessDeniedException',
      },
      {
        name: 'DynamoDB GetItem on the audit table',
        action: 'dynamodb:GetItem',
        resource: () => tableArn(info.tables.audit),
        send: (credentials) =>
          once(
            dynamo(credentials),
            new GetItemCommand({
              TableName: info.tables.audit,
              Key: { pk: { S: 'IAM#probe' }, sk: { S: 'IAM#probe' } },
            }),
          ),
        denial: 'AccessDeniedException',
      },
      {
        name: 'DynamoDB PutItem on the usage table (conditional: writes nothing)',
        action: 'dynamodb:PutItem',
        resource: () => tableArn(info.tables.usage),
        send: (credentials) =>
          once(
            dynamo(credentials),
            new PutItemCommand({
              TableName: info.tables.usage,
              Item: { pk: { S: 'IAM#probe' }, sk: { S: 'IAM#probe' } },
              ConditionExpression: 'attribute_exists(pk)',
            }),
          ),
        denial: 'AccessDeniedException',
      },
      {
        name: 'Cognito ListUsers on the user pool',
        action: 'cognito-idp:ListUsers',
        resource: () => arn('cognito-idp', `userpool/${info.userPoolId}`),
        send: (credentials) =>
          once(
            new CognitoIdentityProviderClient({
              region,
              endpoint: info.endpoints.cognito,
              credentials,
              maxAttempts: 1,
            }),
            new ListUsersCommand({ UserPoolId: info.userPoolId, Limit: 1 }),
          ),
        denial: 'AccessDeniedException',
      },
    ];
  });

  const credentialsOf = (entry: string): Credentials => {
    const fn = info.functions[entry];
    if (!fn) throw new Error(`${entry} is not in platform.json`);
    return { accessKeyId: fn.accessKeyId, secretAccessKey: 'any: the stand-ins read the key id only' };
  };

  /** The role's answer, and the question it was refused on (the first that is refused). */
  const expected = async (entry: string, probe: Probe) => {
    const accessKeyId = iam.authorizer.credentialsFor(entry).accessKeyId;
    const first = { action: probe.action, resource: probe.resource() };
    const decision = await iam.authorizer.authorize({
      accessKeyId,
      ...first,
      context: probe.context?.() ?? {},
    });
    if (!decision.allowed || !probe.andThen) return { ...decision, asked: first };
    const second = { action: probe.andThen.action, resource: probe.andThen.resource() };
    return { ...(await iam.authorizer.authorize({ accessKeyId, ...second, context: {} })), asked: second };
  };

  it('publishes every function of the templates with its key and role in platform.json', () => {
    expect(Object.keys(info.functions).sort()).toEqual(iam.functions.map((fn) => fn.entry).sort());
    for (const fn of iam.functions) {
      expect(info.functions[fn.entry]).toEqual({
        accessKeyId: iam.authorizer.credentialsFor(fn.entry).accessKeyId,
        roleArn: fn.role.arn,
      });
    }
  });

  it("answers every probe of every function as the function's role says, refusals in AWS's words", async () => {
    const mismatches: string[] = [];
    let allowedCalls = 0;
    let deniedCalls = 0;
    for (const fn of iam.functions) {
      for (const probe of probes) {
        // Act
        const decision = await expected(fn.entry, probe);
        const actual = await outcome(probe, credentialsOf(fn.entry));
        // Assert (collected, so one run names every mismatch)
        if (actual.allowed !== decision.allowed) {
          mismatches.push(
            `${fn.entry}: ${probe.name} ${actual.allowed ? 'allowed' : 'denied'}, role says ${decision.allowed ? 'allow' : 'deny'}`,
          );
        } else if (!decision.allowed) {
          deniedCalls += 1;
          const message = accessDeniedMessage(decision.asked, decision);
          if (actual.message !== message) mismatches.push(`${fn.entry}: ${probe.name}: "${actual.message}"`);
        } else allowedCalls += 1;
      }
    }
    expect(mismatches).toEqual([]);
    expect(allowedCalls).toBeGreaterThan(100);
    expect(deniedCalls).toBeGreaterThan(100);
  });

  it('gives every function that the stand-ins serve at least one allowed and one refused probe', async () => {
    const onlyOutside: string[] = [];
    for (const fn of iam.functions) {
      const decisions = await Promise.all(probes.map((probe) => expected(fn.entry, probe)));
      const allowed = decisions.filter((decision) => decision.allowed).length;
      // Every function is refused something.
      expect(allowed, fn.entry).toBeLessThan(probes.length);
      if (allowed === 0) onlyOutside.push(fn.entry);
    }
    // Only these are allowed none of the probes: health and OpenAPI call no AWS API at all.
    expect(onlyOutside.sort()).toEqual(['platform/get-health', 'platform/get-openapi']);
  });

  it("lets only the records consumer's role make its event source mapping's calls on its queue", async () => {
    // No stand-in serves SQS: Lambda's pollers make these calls, with the consumer's role, and the
    // platform checks them at boot (checkMappingPermissions); asked here of every role.
    const [mapping, ...more] = iam.eventSourceMappings;
    expect(more).toEqual([]);
    expect(mapping?.entry).toBe('events/record-telemetry');
    const consume = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];
    const allowedBy = async (entry: string) => {
      const accessKeyId = iam.authorizer.credentialsFor(entry).accessKeyId;
      const decisions = await Promise.all(
        [...consume, 'sqs:SendMessage'].map((action) =>
          iam.authorizer.authorize({ accessKeyId, action, resource: mapping?.queueArn ?? '', context: {} }),
        ),
      );
      return decisions.map((decision) => decision.allowed);
    };
    // The consumer consumes, and does not send (the rule does).
    expect(await allowedBy('events/record-telemetry')).toEqual([true, true, true, false]);
    for (const fn of iam.functions) {
      if (fn.entry === 'events/record-telemetry') continue;
      expect(await allowedBy(fn.entry), fn.entry).toEqual([false, false, false, false]);
    }
  });

  // Probes in order: master secret, tenant secret, control app secret, Data API as the app role,
  // PutEvents, audit GetItem, usage PutItem, ListUsers. No function's own role reads a tenant
  // secret or the master secret here: tenant data goes through tenant-access sessions (below).
  it.each([
    ['platform/get-health', [false, false, false, false, false, false, false, false]],
    ['me/get-me', [false, false, true, true, true, false, false, false]],
    ['tables/list-tables', [false, false, true, true, true, false, false, false]],
    ['events/record-telemetry', [false, false, false, false, false, true, true, false]],
    ['members/post-member', [false, false, true, true, true, false, false, true]],
    ['provisioning/create-role-and-database', [true, true, true, true, false, false, false, false]],
  ] as const)('%s: the probes its role allows, written out', async (entry, allowed) => {
    // Act
    const outcomes = [];
    for (const probe of probes) outcomes.push((await outcome(probe, credentialsOf(entry))).allowed);
    // Assert
    expect(outcomes).toEqual(allowed);
  });
});
