import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as cognitoSdk from '@aws-sdk/client-cognito-identity-provider';
import * as dynamodbSdk from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { GateRefusal, type JsonObject, type ServiceRules } from '#infra/local/engines/iam-gate';
import {
  cognitoUserPoolRules,
  IAM_AUTHORIZED_OPERATIONS,
  NOT_IAM_AUTHORIZED_OPERATIONS,
} from '#infra/local/engines/iam-gate-cognito';
import { dynamodbRules } from '#infra/local/engines/iam-gate-dynamodb';

// The IAM gate's rules on their own: the questions each call asks, and the error a call that
// names no resource gets. Engines and the gate itself: test/integration/engines/iam-gate.test.ts.

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/';
const POOL = 'arn:aws:cognito-idp:us-east-1:000000000000:userpool/';

function questions(rules: ServiceRules, operation: string, input: JsonObject | undefined) {
  const rule = rules.operation(operation);
  if (rule === undefined || rule === 'not-iam') throw new Error(`${operation} is not IAM-judged`);
  return rule(input).map(({ action, resource }) => ({ action, resource }));
}

function refusal(rules: ServiceRules, operation: string, input: JsonObject | undefined) {
  try {
    questions(rules, operation, input);
  } catch (error) {
    if (error instanceof GateRefusal) return error.answer;
    throw error;
  }
  throw new Error(`${operation} was not refused`);
}

/** Operation names of an SDK package: its `<Operation>Command` classes. */
function sdkOperations(sdk: Record<string, unknown>): string[] {
  return Object.keys(sdk)
    .filter((name) => /^[A-Z]\w*Command$/.test(name) && name !== 'Command')
    .map((name) => name.slice(0, -'Command'.length))
    .sort();
}

describe('DynamoDB rules (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html)', () => {
  const rules = dynamodbRules();

  it('asks the action of the operation on the table, or on the index for Query and Scan with IndexName', () => {
    expect(questions(rules, 'GetItem', { TableName: 'audit', Key: {} })).toEqual([
      { action: 'dynamodb:GetItem', resource: `${TABLE}audit` },
    ]);
    expect(questions(rules, 'Query', { TableName: 'audit', IndexName: 'by-day' })).toEqual([
      { action: 'dynamodb:Query', resource: `${TABLE}audit/index/by-day` },
    ]);
    expect(questions(rules, 'Scan', { TableName: `${TABLE}audit` })).toEqual([
      { action: 'dynamodb:Scan', resource: `${TABLE}audit` },
    ]);
    expect(questions(rules, 'ListTables', undefined)).toEqual([
      { action: 'dynamodb:ListTables', resource: '*' },
    ]);
  });

  it('asks about every table of a batch, and about each item of a transaction with its own action', () => {
    expect(questions(rules, 'BatchGetItem', { RequestItems: { a: {}, b: {} } })).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: `${TABLE}a` },
      { action: 'dynamodb:BatchGetItem', resource: `${TABLE}b` },
    ]);
    expect(
      questions(rules, 'TransactWriteItems', {
        TransactItems: [{ Put: { TableName: 'a' } }, { ConditionCheck: { TableName: 'b' } }],
      }),
    ).toEqual([
      { action: 'dynamodb:PutItem', resource: `${TABLE}a` },
      { action: 'dynamodb:ConditionCheckItem', resource: `${TABLE}b` },
    ]);
  });

  it('refuses, in DynamoDB’s words, a call whose resource it cannot name', () => {
    expect(refusal(rules, 'GetItem', undefined)).toEqual({
      status: 400,
      body: {
        __type: 'com.amazon.coral.service#SerializationException',
        Message: 'The request body is not a JSON object',
      },
    });
    expect(refusal(rules, 'Query', { TableName: 'a', IndexName: 'x/../y' }).body).toEqual({
      __type: 'com.amazon.coral.validate#ValidationException',
      message:
        "1 validation error detected: Value 'x/../y' at 'indexName' failed to satisfy constraint: " +
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+',
    });
    expect(refusal(rules, 'BatchWriteItem', { RequestItems: {} }).body.message).toBe(
      "1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: " +
        'Member must have length greater than or equal to 1',
    );
    expect(refusal(rules, 'PutItem', { TableName: 7 }).body.__type).toBe(
      'com.amazon.coral.service#SerializationException',
    );
  });

  it('classifies every operation dynalite serves (what else it is asked is refused)', () => {
    const dynalite = createRequire(import.meta.url).resolve('dynalite');
    const source = readFileSync(dynalite, 'utf8');
    const served = /validOperations = \[([^\]]+)\]/.exec(source)?.[1]?.match(/\w+/g) ?? [];

    expect(served.length).toBeGreaterThan(10);
    expect(served.filter((operation) => rules.operation(operation) === undefined)).toEqual([]);
    expect(sdkOperations(dynamodbSdk)).toContain('ExecuteStatement');
    expect(rules.operation('ExecuteStatement')).toBeUndefined();
  });
});

describe('Cognito user pool rules', () => {
  const rules = cognitoUserPoolRules();

  it('asks cognito-idp:<Operation> on the pool, on the ResourceArn for tagging, on "*" without a pool', () => {
    expect(questions(rules, 'AdminCreateUser', { UserPoolId: 'us-east-1_abc' })).toEqual([
      { action: 'cognito-idp:AdminCreateUser', resource: `${POOL}us-east-1_abc` },
    ]);
    expect(questions(rules, 'TagResource', { ResourceArn: `${POOL}us-east-1_abc` })).toEqual([
      { action: 'cognito-idp:TagResource', resource: `${POOL}us-east-1_abc` },
    ]);
    expect(questions(rules, 'CreateUserPool', { PoolName: 'p' })).toEqual([
      { action: 'cognito-idp:CreateUserPool', resource: '*' },
    ]);
    expect(rules.operation('InitiateAuth')).toBe('not-iam');
  });

  it('refuses a pool id that does not make a pool ARN with InvalidParameterException', () => {
    expect(refusal(rules, 'ListUsers', { UserPoolId: 'a/b' })).toEqual({
      status: 400,
      body: {
        __type: 'InvalidParameterException',
        message:
          "1 validation error detected: Value 'a/b' at 'userPoolId' failed to satisfy constraint: " +
          'Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+',
      },
    });
  });

  it('classifies every operation of the installed SDK exactly once, and nothing the SDK does not have', () => {
    const iam: readonly string[] = IAM_AUTHORIZED_OPERATIONS;
    const notIam: readonly string[] = NOT_IAM_AUTHORIZED_OPERATIONS;
    const sdk = sdkOperations(cognitoSdk);

    expect(sdk.length).toBeGreaterThan(100);
    expect(sdk.filter((operation) => !iam.includes(operation) && !notIam.includes(operation))).toEqual([]);
    expect(iam.filter((operation) => notIam.includes(operation))).toEqual([]);
    expect([...iam, ...notIam].filter((operation) => !sdk.includes(operation))).toEqual([]);
    expect(new Set([...iam, ...notIam]).size).toBe(iam.length + notIam.length);
  });

  it('agrees with the note of each operation’s documentation on whether Cognito evaluates IAM policies', () => {
    // The notes of https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/
    // pages, as the SDK carries them in its command documentation.
    const commands = path.join(
      path.dirname(createRequire(import.meta.url).resolve('@aws-sdk/client-cognito-identity-provider')),
      '..',
      'dist-types',
      'commands',
    );
    const note = (operation: string) => {
      const text = readFileSync(path.join(commands, `${operation}Command.d.ts`), 'utf8');
      if (text.includes('Amazon Cognito evaluates Identity and Access Management')) return 'iam';
      if (text.includes("Amazon Cognito doesn't evaluate Identity and Access Management")) return 'not-iam';
      return 'none';
    };
    const iam: readonly string[] = IAM_AUTHORIZED_OPERATIONS;
    const disagreements = sdkOperations(cognitoSdk).flatMap((operation) => {
      const documented = note(operation);
      const classified = iam.includes(operation) ? 'iam' : 'not-iam';
      return documented === 'none' || documented === classified ? [] : [`${operation}: ${documented}`];
    });

    expect(disagreements).toEqual([]);
    expect(note('AdminCreateUser')).toBe('iam');
    expect(note('SignUp')).toBe('not-iam');
  });
});
