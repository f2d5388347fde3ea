/**
 * A small stand-in for the Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`),
 * so that local Cognito can call our trigger handlers the way the real service calls Lambda.
 *
 * Wire behaviour copied from Lambda:
 * - success: 200, body = the function's JSON result (`null` when it returns undefined);
 * - the function throws: still 200, header `X-Amz-Function-Error: Unhandled`, body
 *   `{ errorType, errorMessage, trace }` (errorType is the error's `name`, as the Node runtime does);
 * - unknown function: 404, `x-amzn-ErrorType: ResourceNotFoundException`;
 * - `X-Amz-Invocation-Type: Event`: 202 at once; a function served with `invokeAsync` gets it
 *   through Lambda's asynchronous queue (retries, on-failure destination: ../async-invoke.ts), any
 *   other just runs in the background;
 *   `DryRun`: 204 without running it;
 * - request payload over 6 MB: 413 RequestTooLargeException.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serverStop } from './http-server.ts';
import { LOOPBACK, listenOnLoopback } from './ports.ts';

const ENGINE = 'lambda invoke endpoint';
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

export type LocalFunction = (event: unknown) => Promise<unknown>;

export interface LambdaInvokeOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Function name → handler. The name is what callers put in `FunctionName` (a name, not an ARN). */
  functions: Record<string, LocalFunction>;
  /** Called when a function throws or a background (Event) invocation fails; default: nothing. */
  onError?: (functionName: string, error: unknown) => void;
}

/** A function served after the start, with what takes its `Event` invocations. */
export interface ServedFunction {
  readonly invoke: LocalFunction;
  /** Takes an `Event` invocation after the 202 (Lambda's asynchronous queue). */
  readonly invokeAsync?: (event: unknown) => Promise<void>;
}

export interface LambdaInvokeHandle {
  /** e.g. `http://127.0.0.1:9001`; give it to a Lambda client as `endpoint`. */
  endpoint: string;
  port: number;
  /** Serves one more function under `name` (functions the platform starts later, e.g. the consumers). */
  serve(name: string, fn: ServedFunction): void;
  stop(): Promise<void>;
}

export async function startLambdaInvokeEndpoint(options: LambdaInvokeOptions): Promise<LambdaInvokeHandle> {
  const functions = new Map<string, ServedFunction>(
    Object.entries(options.functions).map(([name, invoke]) => [name, { invoke }]),
  );
  const server = createServer((request, response) => {
    handle(request, response, functions, options.onError).catch((error: unknown) => {
      options.onError?.('(endpoint)', error);
      if (!response.headersSent) sendJson(response, 500, { message: 'Internal error' }, 'ServiceException');
      else response.destroy();
    });
  });
  const port = await listenOnLoopback(server, options.port, ENGINE);

  return {
    endpoint: `http://${LOOPBACK}:${port}`,
    port,
    serve: (name, fn) => {
      functions.set(name, fn);
    },
    stop: serverStop(server),
  };
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  functions: Map<string, ServedFunction>,
  onError: LambdaInvokeOptions['onError'],
): Promise<void> {
  const url = new URL(request.url ?? '/', `http://${LOOPBACK}`);
  const match = INVOKE_PATH.exec(url.pathname);
  if (request.method !== 'POST' || match?.[1] === undefined) {
    sendJson(
      response,
      404,
      { message: `No route for ${request.method} ${url.pathname}` },
      'UnknownOperationException',
    );
    return;
  }
  const name = functionName(decodeURIComponent(match[1]));
  const served = functions.get(name);
  if (served === undefined) {
    const arn = `arn:aws:lambda:local:000000000000:function:${name}`;
    sendJson(
      response,
      404,
      { Type: 'User', message: `Function not found: ${arn}` },
      'ResourceNotFoundException',
    );
    return;
  }

  const body = await readBody(request, MAX_SYNC_PAYLOAD_BYTES);
  if (body === undefined) {
    sendJson(
      response,
      413,
      {
        Type: 'User',
        message: `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
      },
      'RequestTooLargeException',
    );
    return;
  }
  let event: unknown;
  try {
    event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    sendJson(
      response,
      400,
      { Type: 'User', message: 'Could not parse request body into json' },
      'InvalidRequestContentException',
    );
    return;
  }

  const invocationType = request.headers['x-amz-invocation-type'] ?? 'RequestResponse';
  if (invocationType === 'DryRun') {
    response.writeHead(204).end();
    return;
  }
  if (invocationType === 'Event') {
    response.writeHead(202).end();
    (served.invokeAsync ?? served.invoke)(event).catch((error: unknown) => onError?.(name, error));
    return;
  }

  try {
    const result = await served.invoke(event);
    response.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
    response.end(JSON.stringify(result ?? null));
  } catch (error) {
    onError?.(name, error);
    const err = error instanceof Error ? error : new Error(String(error));
    response.writeHead(200, {
      'content-type': 'application/json',
      'x-amz-executed-version': '$LATEST',
      'x-amz-function-error': 'Unhandled',
    });
    response.end(
      JSON.stringify({
        errorType: err.name,
        errorMessage: err.message,
        trace: (err.stack ?? '').split('\n'),
      }),
    );
  }
}

/** Accepts a plain name, a partial ARN or a full ARN, with or without a qualifier. */
function functionName(nameOrArn: string): string {
  const arn = /^(?:arn:[^:]+:lambda:[^:]*:[^:]*:function:)?([^:]+)(?::[^:]+)?$/.exec(nameOrArn);
  return arn?.[1] ?? nameOrArn;
}

function sendJson(response: ServerResponse, status: number, body: object, errorType: string): void {
  response.writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': errorType });
  response.end(JSON.stringify({ __type: errorType, ...body }));
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
