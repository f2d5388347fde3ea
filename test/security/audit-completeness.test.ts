import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LocalClient } from '#infra/local/client';
import { auditPartition } from '#shared/records/audit-store';
import { type Actor, eventually, newActor } from '../support/actors.ts';
import { expectStatus } from '../support/tenancy.ts';
import { tenantWithDatabase } from '../support/tenant-data.ts';

/**
 * Every write, accepted or refused, leaves exactly one audit record, whatever its body holds: a
 * caller must not be able to keep a write out of the audit log with a body the record store
 * cannot take (prototype-named or empty keys, numbers DynamoDB cannot hold). Hostile bodies are
 * written as raw JSON text, so keys such as `__proto__` reach the platform as JSON.parse makes them.
 */

const info = inject('platform');
const client = new LocalClient(info);
const dynamo = new DynamoDBClient({
  region: info.region,
  endpoint: info.endpoints.dynamodb,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
afterAll(() => {
  client.close();
  dynamo.destroy();
});

/** The tenant's audit records of requests made at `from` or later. */
async function auditCount(tenantId: string, from: string): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: info.tables.audit,
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': { S: auditPartition(tenantId) }, ':from': { S: from } },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return count;
}

/** JSON text of a value whose keys and numbers are written exactly as generated. */
type Hostile = { kind: 'raw'; text: string } | { kind: 'object'; entries: [string, Hostile][] };
const text = (value: Hostile): string =>
  value.kind === 'raw'
    ? value.text
    : `{${value.entries.map(([key, inner]) => `${JSON.stringify(key)}:${text(inner)}`).join(',')}}`;

const hostileKey = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    '',
    'toString',
    'hasOwnProperty',
    'name',
    'permissions',
  ),
  fc.string({ maxLength: 12 }),
);
const rawNumber = fc.constantFrom(
  '12345678901234567890',
  '-9007199254740993',
  '1e400',
  '-1e400',
  '1e-400',
  '1e300',
  '1e-200',
  '123456789012345678901234567890.5',
  '0.1',
);
const leaf = fc.oneof(
  rawNumber.map((t): Hostile => ({ kind: 'raw', text: t })),
  fc.jsonValue({ maxDepth: 2 }).map((v): Hostile => ({ kind: 'raw', text: JSON.stringify(v) })),
);
const { body } = fc.letrec<{ body: Hostile; value: Hostile }>((tie) => ({
  body: fc
    .array(fc.tuple(hostileKey, tie('value')), { maxLength: 6 })
    .map((entries): Hostile => ({ kind: 'object', entries })),
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('body')),
}));

describe('audit completeness (property-based, on the local platform)', () => {
  let owner: Actor;
  let tenantId: string;
  let rows: string;

  beforeAll(async () => {
    owner = await newActor(client, 'audit-all');
    const tenant = await tenantWithDatabase(owner);
    tenantId = tenant.tenantId;
    // A table whose rows carry JSON and numbers: an accepted row's values reach the audit record.
    expectStatus(
      await owner.call('POST', `${tenant.base}/tables`, {
        name: 'documents',
        columns: [
          { name: 'doc', type: 'jsonb' },
          { name: 'amount', type: 'numeric' },
        ],
      }),
      201,
    );
    rows = `${tenant.base}/tables/documents/rows`;
  });

  it('leaves exactly one audit record for every write, whatever its body holds', async () => {
    // Arrange: records are counted from now on (their sort key starts with the request time).
    const targets = [
      ['POST', rows, 'doc'],
      ['POST', rows, null],
      ['POST', `/tenants/${tenantId}/roles`, null],
      ['POST', `/tenants/${tenantId}/members`, null],
      ['PATCH', `/tenants/${tenantId}`, null],
      // Platform admins only: the owner's attempt is refused, and audited all the same.
      ['PUT', `/tenants/${tenantId}/plan`, null],
    ] as const;
    const from = new Date().toISOString();
    let writes = 0;

    // Act: hostile bodies at mutating routes, each answered with a status below 500.
    await fc.assert(
      fc.asyncProperty(body, fc.nat({ max: targets.length - 1 }), async (hostile, pick) => {
        const [method, path, wrapIn] = targets[pick] as (typeof targets)[number];
        // Wrapped, the hostile object is the value of a jsonb column: the row is accepted.
        const sent = wrapIn ? `{${JSON.stringify(wrapIn)}:${text(hostile)},"amount":1}` : text(hostile);
        const response = await fetch(new URL(path, info.apiUrl), {
          method,
          headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
          body: sent,
        });
        await response.arrayBuffer();
        writes += 1;
        expect(response.status, sent).toBeLessThan(500);
      }),
      { numRuns: 40, seed: 20261201 },
    );

    // Assert: one record per write, and no more arriving later.
    const counted = await eventually(
      () => auditCount(tenantId, from),
      (count) => count >= writes,
      20_000,
    );
    expect(counted).toBe(writes);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await auditCount(tenantId, from)).toBe(writes);
  });
});
