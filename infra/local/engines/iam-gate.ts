/**
 * The IAM gate: a reverse proxy in front of an engine that speaks an AWS JSON protocol
 * (`POST /`, `X-Amz-Target: <prefix>.<Operation>`, a JSON body) but knows nothing of IAM —
 * dynalite for DynamoDB, cognito-local for Cognito user pools. Before a call reaches the engine
 * the gate asks the IAM stand-in (`Authorize`) the questions AWS would ask for it, worded by the
 * service's rules (iam-gate-dynamodb.ts, iam-gate-cognito.ts), and answers a refusal the way the
 * service does. An allowed call is forwarded byte for byte and the engine's answer relayed as
 * it is, so the SDK cannot tell the gate is there.
 *
 * The caller is known by the access key id of its SigV4 `Authorization` header (`accessKeyIdOf`);
 * an unsigned call, or one signed with a key the stand-in did not hand out, is the stand-in's to
 * allow (it does, as for administrator credentials). What is judged and how:
 * docs/local-platform-iam.md ("The IAM gate").
 */
import { randomUUID } from 'node:crypto';
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import { pipeline } from 'node:stream';
import { type AccessRequest, type Authorize, accessDeniedMessage, accessKeyIdOf } from '../iam/access.ts';
import { EngineStartFailed } from './errors.ts';
import { serverStop } from './http-server.ts';
import {
  type Emulation,
  engineCall,
  type GateAnswer,
  type JsonObject,
  parseObject,
  type Upstream,
} from './iam-gate-engine.ts';

export type { GateAnswer, JsonObject } from './iam-gate-engine.ts';

import { LOOPBACK, listenOnLoopback } from './ports.ts';

/** Above any valid request: DynamoDB's largest (BatchWriteItem) is 16 MB, Cognito's far smaller. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * A service's error answer: `{ __type, message }` with the status, the message member spelled as
 * that error is (`Message` for some, `message` for others).
 */
export function errorAnswer(
  status: number,
  type: string,
  member: 'message' | 'Message' = 'message',
): (message: string) => GateAnswer {
  return (message) => ({ status, body: { __type: type, [member]: message } });
}

/** The service's own answer to a call the gate cannot judge (it names no resource, say). */
export class GateRefusal extends Error {
  constructor(readonly answer: GateAnswer) {
    super(String(answer.body.message ?? answer.body.Message ?? answer.body.__type));
    this.name = 'GateRefusal';
  }
}

/** One question of a call: the call goes through only if every one is allowed. */
export type IamQuestion = Pick<AccessRequest, 'action' | 'resource'> & {
  readonly context?: AccessRequest['context'];
};

/**
 * How AWS authorises one operation: `'not-iam'` for one it does not judge with IAM policies
 * (forwarded without a question), else the questions of a call with this input. `input` is
 * undefined when the body is not a JSON object; a rule that needs the input then throws a
 * `GateRefusal` with the service's error, as it does when the input names no resource.
 */
export type OperationRule = 'not-iam' | ((input: JsonObject | undefined) => readonly IamQuestion[]);

export interface ServiceErrors {
  /** A denied question, `message` in IAM's wording (`accessDeniedMessage`). */
  accessDenied(message: string): GateAnswer;
  /** A key of an expired session (`EXPIRED_TOKEN_MESSAGE`), refused before any policy is read. */
  expiredToken(message: string): GateAnswer;
  /** A target outside the service, or an operation the rules do not classify. */
  unknownOperation(message: string): GateAnswer;
  /** A body the gate cannot read (too large). */
  serialization(message: string): GateAnswer;
  /** The IAM stand-in failed, or the engine could not be reached: never forwarded, never allowed. */
  internal(message: string): GateAnswer;
}

export interface ServiceRules {
  /** For messages, e.g. `DynamoDB`. */
  readonly service: string;
  /** The `X-Amz-Target` prefix, e.g. `DynamoDB_20120810`. */
  readonly targetPrefix: string;
  /** The protocol's content type, for the gate's own answers. */
  readonly contentType: string;
  /** The operation's rule, or undefined for one the rules do not classify (refused). */
  operation(name: string): OperationRule | undefined;
  /**
   * An operation the engine does not implement, which the gate runs itself once IAM allowed it,
   * out of operations the engine has (DynamoDB's BatchExecuteStatement as conditional PutItems).
   */
  emulated?(name: string): Emulation | undefined;
  readonly errors: ServiceErrors;
}

/** The errors of a service's request validation, for `memberReader`. */
export interface InputErrors {
  /** `ValidationException`-like: a member missing or outside its constraint. */
  validation(message: string): GateAnswer;
  /** A body, or a member, not of the JSON type the operation takes. */
  serialization(message: string): GateAnswer;
}

/** A constraint on a name the gate builds an ARN from, with the pattern as AWS words it. */
export interface NamePattern {
  readonly test: RegExp;
  readonly source: string;
}

/**
 * Reads the members a rule needs to name a call's resource, refusing the call in the service's
 * words when they are not there, the way AWS's request validation words it ("1 validation error
 * detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null";
 * members named in lowerCamel case). A name the gate would build an ARN from is checked against
 * the service's pattern, so that no name can make an ARN mean another resource (`a/index/b`).
 */
export function memberReader(errors: InputErrors) {
  const refuse = (answer: GateAnswer) => new GateRefusal(answer);
  const violated = (value: string, member: string, constraint: string) =>
    refuse(
      errors.validation(
        `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
      ),
    );
  const present = (value: unknown, member: string): unknown => {
    if (value === undefined || value === null) {
      throw refuse(
        errors.validation(
          `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
        ),
      );
    }
    return value;
  };
  const wrongType = (member: string) =>
    refuse(errors.serialization(`Unexpected value type for member ${member}`));
  return {
    /** The body, which must be a JSON object to name a resource. */
    body(input: JsonObject | undefined): JsonObject {
      if (input === undefined) throw refuse(errors.serialization('The request body is not a JSON object'));
      return input;
    },
    string(value: unknown, member: string, pattern?: NamePattern): string {
      if (typeof present(value, member) !== 'string') throw wrongType(member);
      const text = value as string;
      if (pattern && !pattern.test.test(text)) {
        throw violated(text, member, `Member must satisfy regular expression pattern: ${pattern.source}`);
      }
      return text;
    },
    object(value: unknown, member: string): JsonObject {
      const object = present(value, member);
      if (typeof object !== 'object' || Array.isArray(object)) throw wrongType(member);
      return object as JsonObject;
    },
    list(value: unknown, member: string): readonly unknown[] {
      if (!Array.isArray(present(value, member))) throw wrongType(member);
      return value as unknown[];
    },
    /** A map or list that must hold at least one entry. */
    nonEmpty<T extends JsonObject | readonly unknown[]>(value: T, member: string): T {
      const size = Array.isArray(value) ? value.length : Object.keys(value).length;
      if (size === 0) {
        throw violated(JSON.stringify(value), member, 'Member must have length greater than or equal to 1');
      }
      return value;
    },
  };
}

export interface IamGateOptions {
  /** A loopback address; anything else is refused. @default LOOPBACK */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** The engine's endpoint, e.g. `http://127.0.0.1:8000` (`DynamoHandle.endpoint`). */
  readonly upstream: string;
  readonly service: ServiceRules;
  readonly authorize: Authorize;
}

export interface IamGateHandle {
  /** e.g. `http://127.0.0.1:4569`; give it to the SDK client as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  /** Closes the listener, every client socket (after a 1 s grace) and every socket to the engine. */
  stop(): Promise<void>;
}

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection, not to the message: neither
 * forwarded nor relayed; Node frames each side itself. `expect` is answered by this server.
 */
const HOP_BY_HOP =
  /^(?:connection|keep-alive|proxy-connection|transfer-encoding|te|trailer|upgrade|expect)$/i;
const CONTENT_LENGTH = /^content-length$/i;

export async function startIamGate(options: IamGateOptions): Promise<IamGateHandle> {
  const { service, authorize } = options;
  const engine = `iam gate (${service.service})`;
  const upstream = new URL(options.upstream);
  if (upstream.protocol !== 'http:') {
    throw new EngineStartFailed(engine, `upstream ${options.upstream} is not an http:// endpoint`);
  }
  const target = {
    host: upstream.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(upstream.port || 80),
    // One pool of kept-alive sockets to the engine: no TCP handshake per call.
    agent: new Agent({ keepAlive: true }),
  };

  const server = createServer((request, response) => {
    gate(request, response, service, authorize, target).catch(() => {
      if (!response.headersSent) answer(response, service, service.errors.internal('Internal server error'));
      else response.destroy();
    });
  });
  const host = options.host ?? LOOPBACK;
  const port = await listenOnLoopback(server, options.port, engine, host);
  const stopServer = serverStop(server, { forceCloseAfterMs: 1_000 });
  const shown = host.includes(':') ? `[${host}]` : host === 'localhost' ? LOOPBACK : host;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${shown}:${port}`,
    port,
    stop: () => {
      stopped ??= stopServer().finally(() => target.agent.destroy());
      return stopped;
    },
  };
}

async function gate(
  request: IncomingMessage,
  response: ServerResponse,
  rules: ServiceRules,
  authorize: Authorize,
  upstream: Upstream,
): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) {
    answer(response, rules, rules.errors.serialization('The request body is too large'));
    return;
  }
  const header = request.headers['x-amz-target'];
  const target = Array.isArray(header) ? header.join(', ') : header;
  // No target: no operation the engine could run (each refuses such a call); let it answer.
  if (target === undefined) {
    forward(request, response, body, rules, upstream);
    return;
  }
  const operation = operationOf(target, rules.targetPrefix);
  const rule = operation === undefined ? undefined : rules.operation(operation);
  if (rule === undefined) {
    // Refused here, not forwarded: cognito-local runs whatever follows the first dot, and
    // dynalite also accepts the 2011 API's prefix, so a call the rules did not judge could run.
    answer(response, rules, rules.errors.unknownOperation(unknownOperationMessage(rules, target, operation)));
    return;
  }
  const emulation = operation === undefined ? undefined : rules.emulated?.(operation);
  const input = rule !== 'not-iam' || emulation ? parseObject(body) : undefined;
  if (rule !== 'not-iam') {
    let questions: readonly IamQuestion[];
    try {
      questions = rule(input);
    } catch (error) {
      if (!(error instanceof GateRefusal)) throw error;
      answer(response, rules, error.answer);
      return;
    }
    const accessKeyId = accessKeyIdOf(request.headers.authorization);
    for (const question of questions) {
      const decision = await authorize({
        accessKeyId,
        action: question.action,
        resource: question.resource,
        context: question.context ?? {},
      });
      if (!decision.allowed) {
        const message = accessDeniedMessage(question, decision);
        const refusal = decision.expired ? rules.errors.expiredToken : rules.errors.accessDenied;
        answer(response, rules, refusal(message));
        return;
      }
    }
  }
  if (emulation) {
    if (input === undefined) {
      answer(response, rules, rules.errors.serialization('The request body is not a JSON object'));
      return;
    }
    answer(response, rules, await emulation(input, engineCall(request, rules, upstream)));
    return;
  }
  forward(request, response, body, rules, upstream);
}

/** `<prefix>.<Operation>` → the operation; undefined for another prefix or no operation. */
function operationOf(target: string, prefix: string): string | undefined {
  if (target.length <= prefix.length + 1 || target.charCodeAt(prefix.length) !== 46 /* . */) return undefined;
  return target.startsWith(prefix) ? target.slice(prefix.length + 1) : undefined;
}

function unknownOperationMessage(rules: ServiceRules, target: string, operation: string | undefined): string {
  return operation === undefined
    ? `Unknown operation ${target}: the target is not ${rules.targetPrefix}.<Operation>`
    : `The local IAM gate does not know how AWS authorises ${rules.service} ${operation}: ` +
        'classify it in its rules (infra/local/engines/iam-gate-*.ts) before calling it';
}

/** The whole body, or undefined past MAX_BODY_BYTES (the rest is drained). */
async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) return undefined;
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

/**
 * Sends the call to the engine as it came (method, path, headers in their order and case, body
 * bytes) and relays the answer (status, headers, body). A kept-alive socket the engine closed
 * while idle fails before any answer (`ECONNRESET` on a reused socket): that one is retried
 * once on a new socket, as Node's documentation advises; the body is in hand, so nothing is lost.
 */
function forward(
  request: IncomingMessage,
  response: ServerResponse,
  body: Buffer,
  rules: ServiceRules,
  upstream: Upstream,
  retried = false,
): void {
  const outgoing = httpRequest(
    {
      host: upstream.host,
      port: upstream.port,
      agent: upstream.agent,
      method: request.method,
      path: request.url,
      headers: forwardedHeaders(request.rawHeaders, body.length),
    },
    (answerFromEngine) => {
      response.writeHead(
        answerFromEngine.statusCode ?? 502,
        answerFromEngine.statusMessage,
        relayedHeaders(answerFromEngine.rawHeaders),
      );
      pipeline(answerFromEngine, response, () => {});
    },
  );
  outgoing.on('error', (error: NodeJS.ErrnoException) => {
    if (!retried && outgoing.reusedSocket && error.code === 'ECONNRESET' && !response.headersSent) {
      forward(request, response, body, rules, upstream, true);
    } else if (!response.headersSent) {
      answer(response, rules, rules.errors.internal(`The local ${rules.service} engine did not answer`));
    } else {
      response.destroy();
    }
  });
  response.on('close', () => {
    if (!response.writableFinished) outgoing.destroy();
  });
  outgoing.end(body);
}

/** The request's headers without the hop-by-hop ones, the length that of the bytes sent. */
function forwardedHeaders(raw: readonly string[], length: number): string[] {
  const headers: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    if (HOP_BY_HOP.test(name) || CONTENT_LENGTH.test(name)) continue;
    headers.push(name, raw[index + 1] as string);
  }
  headers.push('Content-Length', String(length));
  return headers;
}

function relayedHeaders(raw: readonly string[]): string[] {
  const headers: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    if (!HOP_BY_HOP.test(name)) headers.push(name, raw[index + 1] as string);
  }
  return headers;
}

function answer(response: ServerResponse, rules: ServiceRules, { status, body }: GateAnswer): void {
  const text = JSON.stringify(body);
  const headers: OutgoingHttpHeaders = {
    'content-type': rules.contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  response.writeHead(status, headers);
  response.end(text);
}
