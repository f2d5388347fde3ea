/**
 * The IAM gate's own calls to its engine, for an operation the engine lacks and the gate runs
 * itself once IAM allowed it (an `Emulation`, e.g. DynamoDB's BatchExecuteStatement as PutItems).
 */
import { type Agent, request as httpRequest, type IncomingMessage } from 'node:http';

export type JsonObject = Record<string, unknown>;

/** An answer the gate gives itself, in the service's error shape. */
export interface GateAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The engine behind the gate, reached over kept-alive sockets. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
  readonly agent: Agent;
}

/** What the gate's own calls need to know of the service: its protocol. */
export interface EngineProtocol {
  readonly service: string;
  readonly targetPrefix: string;
  readonly contentType: string;
}

/** The engine's answer to one JSON call of the gate's own. */
export interface EngineAnswer {
  readonly status: number;
  readonly body: JsonObject;
}

/** Calls one operation on the engine behind the gate, as the gate's own step of an emulation. */
export type EngineCall = (operation: string, input: JsonObject) => Promise<EngineAnswer>;

/** Runs an emulated operation's (already authorised) input on the engine; the answer is the gate's. */
export type Emulation = (input: JsonObject, engine: EngineCall) => Promise<GateAnswer>;

/** The body of a JSON protocol call is a JSON object; anything else the rules see as undefined. */
export function parseObject(body: Buffer): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The gate's own calls to the engine, with the caller's signature headers (the engine checks their form). */
export function engineCall(request: IncomingMessage, rules: EngineProtocol, upstream: Upstream): EngineCall {
  const signed: Record<string, string> = {};
  for (const name of ['authorization', 'x-amz-date', 'x-amz-security-token']) {
    const value = request.headers[name];
    if (typeof value === 'string') signed[name] = value;
  }
  return (operation, input) =>
    new Promise<EngineAnswer>((resolve, reject) => {
      const text = JSON.stringify(input);
      const outgoing = httpRequest(
        {
          host: upstream.host,
          port: upstream.port,
          agent: upstream.agent,
          method: 'POST',
          path: '/',
          headers: {
            ...signed,
            'content-type': rules.contentType,
            'x-amz-target': `${rules.targetPrefix}.${operation}`,
            'content-length': Buffer.byteLength(text),
          },
        },
        (answerFromEngine) => {
          const chunks: Buffer[] = [];
          answerFromEngine.on('data', (chunk: Buffer) => chunks.push(chunk));
          answerFromEngine.on('error', reject);
          answerFromEngine.on('end', () => {
            const parsed = parseObject(Buffer.concat(chunks));
            if (parsed === undefined)
              reject(new Error(`The local ${rules.service} engine answered no JSON object`));
            else resolve({ status: answerFromEngine.statusCode ?? 502, body: parsed });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(text);
    });
}
