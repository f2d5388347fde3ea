/**
 * DynamoDB's `BatchExecuteStatement` for the local platform, which dynalite does not implement:
 * the IAM gate judges it and then runs it itself as conditional `PutItem`s on dynalite.
 *
 * Only the statement the platform sends is taken, `INSERT INTO "<table>" VALUE {'<name>': ?, …}`
 * with every value a parameter; any other statement (SELECT, UPDATE, DELETE, literals in the
 * tuple) is refused with a ValidationException that says so, stricter than AWS, never looser.
 * What AWS does, and what the gate does the same way:
 * - 1 to 25 statements a call, all of them reads or all writes
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchExecuteStatement.html;
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.multiplestatements.batching.html);
 * - an INSERT authorises `dynamodb:PartiQLInsert` on its table
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-iam.html); as for
 *   BatchWriteItem, one table refused refuses the whole call here (AWS may instead answer that
 *   statement's `Error` with `AccessDenied`: the gate is the stricter of the two);
 * - an INSERT of a key that exists fails, `DuplicateItemException` for a single statement
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ql-reference.insert.html), and in
 *   a batch that statement's `Error` with the code `DuplicateItem` while the others are applied
 *   ("A HTTP 200 response does not mean that all statements … succeeded", the API reference;
 *   codes: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchStatementError.html);
 * - the answer's `Responses` are in the order of the statements.
 */
import type { GateAnswer, JsonObject } from './iam-gate.ts';
import type { EngineCall } from './iam-gate-engine.ts';

/** The most statements one BatchExecuteStatement takes. */
export const MAX_BATCH_STATEMENTS = 25;
/** The longest statement text (BatchStatementRequest.Statement: length 1 to 8192). */
const MAX_STATEMENT_LENGTH = 8192;

const VALIDATION = 'com.amazon.coral.validate#ValidationException';

export class UnsupportedStatement extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnsupportedStatement';
  }
}

/** An `INSERT INTO "t" VALUE {'a': ?, …}`: its table and the attribute names, in parameter order. */
export interface InsertStatement {
  readonly table: string;
  readonly names: readonly string[];
}

const INSERT = /^\s*INSERT\s+INTO\s+(?:"([^"]+)"|([A-Za-z0-9_.-]+))\s+VALUE\s+\{(.*)\}\s*;?\s*$/is;
/** One `'name' : ?` of the tuple (a quote inside a name doubled, as PartiQL escapes it). */
const PAIR = /^\s*'((?:[^']|'')+)'\s*:\s*\?\s*$/s;

/** Parses the one statement form the local platform runs; anything else is UnsupportedStatement. */
export function parseInsert(statement: string): InsertStatement {
  const match = INSERT.exec(statement);
  if (!match) {
    throw new UnsupportedStatement(
      `The local platform runs only INSERT INTO "<table>" VALUE {'<name>': ?, …} in BatchExecuteStatement, not: ${statement.slice(0, 80)}`,
    );
  }
  const table = (match[1] ?? match[2]) as string;
  const body = match[3] as string;
  const names = splitPairs(body).map((pair) => {
    const named = PAIR.exec(pair);
    if (!named)
      throw new UnsupportedStatement(
        `Each value of the tuple must be a parameter ('name': ?), not: ${pair.trim()}`,
      );
    return (named[1] as string).replace(/''/g, "'");
  });
  if (names.length === 0) throw new UnsupportedStatement('The tuple names no attribute');
  if (new Set(names).size !== names.length)
    throw new UnsupportedStatement('The tuple names an attribute twice');
  return { table, names };
}

/** The tuple's `'name': ?` pairs, split at the commas outside quotes. */
function splitPairs(body: string): string[] {
  const pairs: string[] = [];
  let quoted = false;
  let start = 0;
  for (let index = 0; index < body.length; index++) {
    const char = body[index];
    if (char === "'") quoted = !quoted;
    else if (char === ',' && !quoted) {
      pairs.push(body.slice(start, index));
      start = index + 1;
    }
  }
  const last = body.slice(start);
  if (last.trim() !== '' || pairs.length > 0) pairs.push(last);
  return pairs;
}

const validation = (message: string): GateAnswer => ({ status: 400, body: { __type: VALIDATION, message } });

type ParsedStatements =
  | { ok: true; inserts: InsertStatement[]; requests: JsonObject[] }
  | { ok: false; answer: GateAnswer };

/** Each call's statements, parsed once: the IAM rule and then the emulation read the same input object. */
const parsedCalls = new WeakMap<JsonObject, ParsedStatements>();

/** The statements of a call, checked as AWS validates the request; a refusal is a ValidationException. */
export function statementsOf(input: JsonObject): ParsedStatements {
  let parsed = parsedCalls.get(input);
  if (!parsed) {
    parsed = parseStatements(input);
    parsedCalls.set(input, parsed);
  }
  return parsed;
}

function parseStatements(input: JsonObject): ParsedStatements {
  const statements = input.Statements;
  if (!Array.isArray(statements)) {
    return {
      ok: false,
      answer: validation(
        "1 validation error detected: Value null at 'statements' failed to satisfy constraint: Member must not be null",
      ),
    };
  }
  if (statements.length < 1 || statements.length > MAX_BATCH_STATEMENTS) {
    const bound =
      statements.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_BATCH_STATEMENTS}`;
    return {
      ok: false,
      answer: validation(
        `1 validation error detected: Value at 'statements' failed to satisfy constraint: Member must have length ${bound}`,
      ),
    };
  }
  const inserts: InsertStatement[] = [];
  const requests: JsonObject[] = [];
  for (const [index, entry] of statements.entries()) {
    const member = `statements.${index + 1}.member.statement`;
    const request =
      typeof entry === 'object' && entry !== null && !Array.isArray(entry)
        ? (entry as JsonObject)
        : undefined;
    const text = request?.Statement;
    if (typeof text !== 'string' || text.length < 1 || text.length > MAX_STATEMENT_LENGTH) {
      return {
        ok: false,
        answer: validation(
          `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length between 1 and ${MAX_STATEMENT_LENGTH}`,
        ),
      };
    }
    try {
      inserts.push(parseInsert(text));
    } catch (error) {
      if (!(error instanceof UnsupportedStatement)) throw error;
      return { ok: false, answer: validation(error.message) };
    }
    requests.push(request as JsonObject);
  }
  return { ok: true, inserts, requests };
}

/** The BatchStatementError code of an engine error, by the exception name after the `#`. */
function codeOf(type: string): string {
  if (type === 'ConditionalCheckFailedException') return 'DuplicateItem';
  if (type === 'ResourceNotFoundException') return 'ResourceNotFound';
  if (type === 'ValidationException') return 'ValidationError';
  if (type === 'ProvisionedThroughputExceededException') return 'ProvisionedThroughputExceeded';
  if (type === 'ItemCollectionSizeLimitExceededException') return 'ItemCollectionSizeLimitExceeded';
  return 'InternalServerError';
}

/**
 * Runs an authorised batch of INSERTs: each one a PutItem on the engine that succeeds only when
 * no item has its key (no attribute of the new item exists on the item stored under that key,
 * which is true exactly when there is none: every stored item has its key attributes, and they
 * are among the new item's). Statements run at once; each answers on its own.
 */
export async function runBatchExecuteStatement(input: JsonObject, engine: EngineCall): Promise<GateAnswer> {
  const parsed = statementsOf(input);
  if (!parsed.ok) return parsed.answer;
  const responses = await Promise.all(
    parsed.inserts.map(async (insert, index): Promise<JsonObject> => {
      const parameters = (parsed.requests[index] as JsonObject).Parameters;
      if (!Array.isArray(parameters) || parameters.length !== insert.names.length) {
        return {
          TableName: insert.table,
          Error: {
            Code: 'ValidationError',
            Message: `Number of parameters in request and statement don't match.`,
          },
        };
      }
      const item: JsonObject = {};
      const names: Record<string, string> = {};
      for (const [position, name] of insert.names.entries()) {
        item[name] = parameters[position];
        names[`#a${position}`] = name;
      }
      const answer = await engine('PutItem', {
        TableName: insert.table,
        Item: item,
        ConditionExpression: Object.keys(names)
          .map((alias) => `attribute_not_exists(${alias})`)
          .join(' AND '),
        ExpressionAttributeNames: names,
      });
      if (answer.status === 200) return { TableName: insert.table };
      const type =
        String(answer.body.__type ?? '')
          .split('#')
          .pop() ?? '';
      const code = codeOf(type);
      const message =
        code === 'DuplicateItem'
          ? 'Duplicate primary key exists in table'
          : String(answer.body.message ?? answer.body.Message ?? type);
      return { TableName: insert.table, Error: { Code: code, Message: message } };
    }),
  );
  return { status: 200, body: { Responses: responses } };
}
