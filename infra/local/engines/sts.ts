/**
 * An STS stand-in that speaks the real Query protocol, so `@aws-sdk/client-sts` runs unchanged
 * on the local platform: `POST /` with a form-encoded body (`Action=AssumeRole&Version=2011-06-15
 * &RoleArn=…&Tags.member.1.Key=…`), XML answers (`<AssumeRoleResponse><AssumeRoleResult>…`) and
 * XML errors (`<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message>`).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
 * https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html
 *
 * The SDK (AwsQueryProtocol in @aws-sdk/core) reads the result under `<Action>Result` and an
 * error's code and message from `Error.Code` / `Error.Message` of the parsed `ErrorResponse`.
 * The caller is known by the access key id of the SigV4 signature, as in every stand-in; the
 * decisions are the IAM stand-in's (`assumeRole`, `callerIdentity` of template-authorizer.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { accessKeyIdOf } from '../iam/access.ts';
import type {
  AssumedRole,
  AssumeRoleRequest,
  CallerIdentity,
  SessionTag,
} from '../iam/template-authorizer.ts';
import { StsError } from '../iam/template-authorizer.ts';
import { serverStop } from './http-server.ts';
import { LOOPBACK, listenOnLoopback } from './ports.ts';

const ENGINE = 'sts';
const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const MAX_BODY_BYTES = 256 * 1024;

/** What the stand-in asks the IAM stand-in. */
export interface StsDecisions {
  assumeRole(request: AssumeRoleRequest): AssumedRole;
  callerIdentity(accessKeyId: string | undefined): CallerIdentity;
}

export interface StsOptions {
  /** A loopback address; anything else is refused. @default LOOPBACK */
  readonly host?: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  readonly decisions: StsDecisions;
}

export interface StsHandle {
  /** e.g. `http://127.0.0.1:9005`: `AWS_ENDPOINT_URL_STS`, or STSClient's `endpoint`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startSts(options: StsOptions): Promise<StsHandle> {
  const host = options.host ?? LOOPBACK;
  const server = createServer((request, response) => {
    serve(request, response, options.decisions).catch(() => {
      if (!response.headersSent)
        sendError(response, 500, 'Receiver', 'InternalFailure', 'An internal error occurred.');
      else response.destroy();
    });
  });
  const port = await listenOnLoopback(server, options.port, ENGINE, host);
  return {
    endpoint: `http://${host === 'localhost' ? LOOPBACK : host}:${port}`,
    stop: serverStop(server, { forceCloseAfterMs: 1_000 }),
  };
}

async function serve(
  request: IncomingMessage,
  response: ServerResponse,
  decisions: StsDecisions,
): Promise<void> {
  const body = await readBody(request);
  if (body === undefined) {
    sendError(response, 413, 'Sender', 'RequestEntityTooLarge', 'The request body is too large');
    return;
  }
  const params = new URLSearchParams(request.method === 'POST' ? body : (request.url ?? '').split('?')[1]);
  const action = params.get('Action') ?? '';
  const accessKeyId = accessKeyIdOf(request.headers.authorization);
  try {
    if (action === 'AssumeRole') {
      const assumed = decisions.assumeRole(assumeRoleInput(params, accessKeyId));
      sendResult(response, 'AssumeRole', assumeRoleXml(assumed));
    } else if (action === 'GetCallerIdentity') {
      sendResult(response, 'GetCallerIdentity', callerIdentityXml(decisions.callerIdentity(accessKeyId)));
    } else {
      // AWS's wording for an action STS does not have.
      sendError(
        response,
        400,
        'Sender',
        'InvalidAction',
        `Could not find operation ${action} for version 2011-06-15`,
      );
    }
  } catch (error) {
    if (!(error instanceof StsError)) throw error;
    sendError(response, error.status, 'Sender', error.code, error.message);
  }
}

/** The Query members of AssumeRole: lists as `<Member>.member.<n>`, n from 1. */
function assumeRoleInput(params: URLSearchParams, callerAccessKeyId: string | undefined): AssumeRoleRequest {
  const required = (name: string, member: string) => {
    const value = params.get(name);
    if (value === null) {
      throw new StsError(
        'ValidationError',
        400,
        `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  };
  const roleArn = required('RoleArn', 'roleArn');
  const roleSessionName = required('RoleSessionName', 'roleSessionName');
  const duration = params.get('DurationSeconds');
  const tags: SessionTag[] = [];
  for (let n = 1; params.has(`Tags.member.${n}.Key`); n += 1) {
    tags.push({
      Key: params.get(`Tags.member.${n}.Key`) ?? '',
      Value: params.get(`Tags.member.${n}.Value`) ?? '',
    });
  }
  const transitiveTagKeys: string[] = [];
  for (let n = 1; params.has(`TransitiveTagKeys.member.${n}`); n += 1) {
    transitiveTagKeys.push(params.get(`TransitiveTagKeys.member.${n}`) ?? '');
  }
  return {
    callerAccessKeyId,
    roleArn,
    roleSessionName,
    tags,
    transitiveTagKeys,
    ...(duration === null ? {} : { durationSeconds: Number(duration) }),
  };
}

/** STS's timestamps: ISO 8601 in UTC, whole seconds (`2019-11-09T13:34:41Z`). */
const timestamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function assumeRoleXml({ credentials, assumedRoleUser }: AssumedRole): string {
  return (
    `<AssumedRoleUser><AssumedRoleId>${xml(assumedRoleUser.assumedRoleId)}</AssumedRoleId>` +
    `<Arn>${xml(assumedRoleUser.arn)}</Arn></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${xml(credentials.accessKeyId)}</AccessKeyId>` +
    `<SecretAccessKey>${xml(credentials.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${xml(credentials.sessionToken)}</SessionToken>` +
    `<Expiration>${timestamp(credentials.expiration)}</Expiration></Credentials>`
  );
}

function callerIdentityXml(identity: CallerIdentity): string {
  return `<Arn>${xml(identity.arn)}</Arn><UserId>${xml(identity.userId)}</UserId><Account>${xml(identity.account)}</Account>`;
}

function sendResult(response: ServerResponse, action: string, result: string): void {
  const requestId = randomUUID();
  send(
    response,
    200,
    requestId,
    `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  code: string,
  message: string,
): void {
  const requestId = randomUUID();
  send(
    response,
    status,
    requestId,
    `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${type}</Type><Code>${xml(code)}</Code>` +
      `<Message>${xml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  );
}

function send(response: ServerResponse, status: number, requestId: string, body: string): void {
  response.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  response.end(body);
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The body as text, or undefined when it is too large. */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
