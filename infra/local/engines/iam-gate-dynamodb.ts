/**
 * How AWS authorises DynamoDB calls, for the IAM gate in front of dynalite.
 *
 * Action and resource per operation, from the Service Authorization Reference
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html,
 * "API operations defined by Amazon DynamoDB" and "Actions defined by Amazon DynamoDB"):
 * - every operation authorises the action of its own name, `dynamodb:<Operation>`, except the
 *   transactions, which authorise the action of each item (`TransactWriteItems` →
 *   `dynamodb:ConditionCheckItem` / `PutItem` / `DeleteItem` / `UpdateItem`, `TransactGetItems` →
 *   `dynamodb:GetItem`);
 * - item and table operations are on the table (`arn:aws:dynamodb:<region>:<account>:table/<name>`);
 *   Query and Scan with an `IndexName` on the index (`…:table/<name>/index/<index>`), as AWS
 *   names it in a denial ("not authorized to perform: dynamodb:Query on resource:
 *   arn:aws:dynamodb:sa-east-1:…:table/DigitalWithdrawal/index/SkDataIndex",
 *   https://pastebin.com/UzWPqE0q);
 * - BatchGetItem and BatchWriteItem are on every table of `RequestItems`: one table refused
 *   refuses the whole call;
 * - TagResource, UntagResource, ListTagsOfResource are on the `ResourceArn` given;
 * - ListTables, DescribeLimits, DescribeEndpoints take no resource (`*`): "not authorized to
 *   perform: dynamodb:ListTables on resource: *" (https://github.com/rebuy-de/aws-nuke/issues/265).
 * `TableName` may itself be the table's ARN
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html#DDB-GetItem-request-TableName).
 *
 * DynamoDB's own condition keys (`dynamodb:LeadingKeys`, `dynamodb:Attributes`,
 * `dynamodb:Select`, …) are not in the request context: a grant conditioned on them denies
 * locally. No Tenantry template uses one.
 *
 * A denial is HTTP 400 with `{"__type": "com.amazon.coral.service#AccessDeniedException",
 * "Message": "User: … is not authorized to perform: dynamodb:… on resource: arn:…"}`: the
 * status in "Status Code: 400; Error Code: AccessDeniedException"
 * (https://github.com/Graylog2/graylog-plugin-aws/issues/19), the body as boto shows it
 * (https://github.com/sebdah/dynamic-dynamodb/issues/321). Errors are "an HTTP status code, an
 * exception name and an error message", `{"__type": "com.amazonaws.dynamodb.v20120810#…",
 * "message": "…"}` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html);
 * request validation answers `com.amazon.coral.validate#ValidationException`, as dynalite
 * records it from AWS. The SDK takes the name after the `#` and reads `message ?? Message`.
 *
 * BatchExecuteStatement (PartiQL), which dynalite lacks, is judged here and then run by the gate
 * itself as conditional PutItems, for the one statement form the platform sends (INSERT):
 * dynamodb-partiql.ts. Operations not listed here (ExecuteStatement, other PartiQL, backups,
 * global tables, exports, …) are refused by the gate until someone classifies them; dynalite
 * implements none of them.
 */
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../iam/access.ts';
import { type ArnScope, arnsIn } from '../iam/physical-names.ts';
import { runBatchExecuteStatement, statementsOf } from './dynamodb-partiql.ts';
import {
  errorAnswer,
  GateRefusal,
  type IamQuestion,
  memberReader,
  type NamePattern,
  type OperationRule,
  type ServiceRules,
} from './iam-gate.ts';
import type { Emulation } from './iam-gate-engine.ts';

const CORAL = 'com.amazon.coral.service#';

/** "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+" (tables and indexes). */
const NAME: NamePattern = { test: /^[a-zA-Z0-9_.-]+$/, source: '[a-zA-Z0-9_.-]+' };
/** A table name, or a table's ARN. */
const TABLE: NamePattern = {
  test: /^(?:[a-zA-Z0-9_.-]+|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-zA-Z0-9_.-]+)$/,
  source: NAME.source,
};

const errors = {
  accessDenied: errorAnswer(400, `${CORAL}AccessDeniedException`, 'Message'),
  // DynamoDB answers every client error with 400, an expired session's key too ("The security
  // token included in the request is expired (Service: DynamoDb, Status Code: 400 …)",
  // https://github.com/Graylog2/graylog-plugin-integrations/issues/386).
  expiredToken: errorAnswer(400, `${CORAL}ExpiredTokenException`, 'message'),
  unknownOperation: errorAnswer(400, `${CORAL}UnknownOperationException`),
  serialization: errorAnswer(400, `${CORAL}SerializationException`, 'Message'),
  validation: errorAnswer(400, 'com.amazon.coral.validate#ValidationException'),
  internal: errorAnswer(500, 'com.amazonaws.dynamodb.v20120810#InternalServerError'),
};

/** Item and table operations: on the table named by `TableName`. */
const ON_TABLE = [
  'CreateTable',
  'DeleteTable',
  'DescribeTable',
  'UpdateTable',
  'DescribeTimeToLive',
  'UpdateTimeToLive',
  'DescribeContinuousBackups',
  'UpdateContinuousBackups',
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
] as const;
/** On the table, or on the index named by `IndexName`. */
const ON_TABLE_OR_INDEX = ['Query', 'Scan'] as const;
/** On every table that is a key of `RequestItems`. */
const ON_EACH_TABLE = ['BatchGetItem', 'BatchWriteItem'] as const;
/** On the `ResourceArn` given (a table, or one of its streams or indexes). */
const ON_RESOURCE_ARN = ['TagResource', 'UntagResource', 'ListTagsOfResource'] as const;
/** No resource: `*`. */
const ON_ACCOUNT = ['ListTables', 'DescribeLimits', 'DescribeEndpoints'] as const;
/** The action each kind of transaction item authorises. */
const TRANSACT_WRITE_ACTIONS: Readonly<Record<string, string>> = {
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Put: 'dynamodb:PutItem',
  Delete: 'dynamodb:DeleteItem',
  Update: 'dynamodb:UpdateItem',
};
const TRANSACT_GET_ACTIONS: Readonly<Record<string, string>> = { Get: 'dynamodb:GetItem' };

/** The DynamoDB rules of the IAM gate, for ARNs in `scope` (default: the local account and region). */
export function dynamodbRules(
  scope: ArnScope = { accountId: LOCAL_ACCOUNT_ID, region: LOCAL_REGION },
): ServiceRules {
  const arn = arnsIn(scope);
  const read = memberReader(errors);
  const tableArn = (value: unknown, member: string) => {
    const name = read.string(value, member, TABLE);
    return name.startsWith('arn:') ? name : arn.dynamodbTable(name);
  };

  const onTable =
    (action: string): OperationRule =>
    (input) => [{ action, resource: tableArn(read.body(input).TableName, 'tableName') }];

  const onTableOrIndex =
    (action: string): OperationRule =>
    (input) => {
      const body = read.body(input);
      const table = tableArn(body.TableName, 'tableName');
      if (body.IndexName === undefined || body.IndexName === null) return [{ action, resource: table }];
      return [{ action, resource: `${table}/index/${read.string(body.IndexName, 'indexName', NAME)}` }];
    };

  const onEachTable =
    (action: string): OperationRule =>
    (input) => {
      const items = read.nonEmpty(read.object(read.body(input).RequestItems, 'requestItems'), 'requestItems');
      return Object.keys(items).map((name) => ({ action, resource: tableArn(name, 'requestItems') }));
    };

  const transact =
    (actions: Readonly<Record<string, string>>): OperationRule =>
    (input) => {
      const items = read.nonEmpty(
        read.list(read.body(input).TransactItems, 'transactItems'),
        'transactItems',
      );
      return items.flatMap((item, index): IamQuestion[] => {
        const member = `transactItems.${index + 1}.member`;
        const entry = read.object(item, member);
        const kinds = Object.keys(actions).filter(
          (kind) => entry[kind] !== undefined && entry[kind] !== null,
        );
        if (kinds.length !== 1) {
          throw new GateRefusal(
            errors.validation(`TransactItems can only contain one of ${Object.keys(actions).join(', ')}`),
          );
        }
        const kind = kinds[0] as string;
        const operation = read.object(entry[kind], `${member}.${lowerCamel(kind)}`);
        const resource = tableArn(operation.TableName, `${member}.${lowerCamel(kind)}.tableName`);
        return [{ action: actions[kind] as string, resource }];
      });
    };

  /** `dynamodb:PartiQLInsert` on each table the batch's INSERTs name, once per table. */
  const partiqlBatch: OperationRule = (input) => {
    const parsed = statementsOf(read.body(input));
    if (!parsed.ok) throw new GateRefusal(parsed.answer);
    const tables = new Set(parsed.inserts.map((insert) => tableArn(insert.table, 'statements')));
    return [...tables].map((resource) => ({ action: 'dynamodb:PartiQLInsert', resource }));
  };

  const onResourceArn =
    (action: string): OperationRule =>
    (input) => [{ action, resource: read.string(read.body(input).ResourceArn, 'resourceArn') }];

  const rules = new Map<string, OperationRule>([
    ...ON_TABLE.map((op) => [op, onTable(`dynamodb:${op}`)] as const),
    ...ON_TABLE_OR_INDEX.map((op) => [op, onTableOrIndex(`dynamodb:${op}`)] as const),
    ...ON_EACH_TABLE.map((op) => [op, onEachTable(`dynamodb:${op}`)] as const),
    ...ON_RESOURCE_ARN.map((op) => [op, onResourceArn(`dynamodb:${op}`)] as const),
    ...ON_ACCOUNT.map((op) => [op, accountWide(`dynamodb:${op}`)] as const),
    ['TransactWriteItems', transact(TRANSACT_WRITE_ACTIONS)],
    ['TransactGetItems', transact(TRANSACT_GET_ACTIONS)],
    ['BatchExecuteStatement', partiqlBatch],
  ]);
  const emulations = new Map<string, Emulation>([['BatchExecuteStatement', runBatchExecuteStatement]]);

  return {
    service: 'DynamoDB',
    targetPrefix: 'DynamoDB_20120810',
    contentType: 'application/x-amz-json-1.0',
    operation: (name) => rules.get(name),
    emulated: (name) => emulations.get(name),
    errors,
  };
}

function accountWide(action: string): OperationRule {
  const questions: readonly IamQuestion[] = [{ action, resource: '*' }];
  return () => questions;
}

function lowerCamel(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}
