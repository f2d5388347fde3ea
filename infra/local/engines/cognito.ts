/**
 * The local Cognito user pool API: `cognito-local`, run inside this process (no child process to
 * orphan). We assemble its server from its own parts, as its `createDefaultServer` does, but with
 * absolute paths (it would otherwise use `./.cognito` relative to the working directory), our
 * logger, a confirmation-code recorder instead of console boxes, and the issuer set to the real
 * port. Its database is the CLI's layout: `<dataDir>/.cognito/db/<poolId>.json` and `clients.json`,
 * so `npx cognito-local` run with cwd = dataDir sees the same users.
 *
 * Facts checked against cognito-local 5.3.0 (see docs/local-platform.md):
 * - tokens are RS256, `kid` "CognitoLocal", signed with a private key that ships in the package
 *   (public and fixed: never trust these tokens outside a developer machine);
 * - `iss` is `http://127.0.0.1:<port>/<userPoolId>`; JWKS at `<iss>/.well-known/jwks.json`;
 * - triggers are called through Lambda Invoke (aws-sdk v2) on `lambdaEndpoint`;
 *   PreTokenGeneration is the V1 event only and overrides the ID token only.
 */

import { chmod, mkdir } from 'node:fs/promises';
import './quiet-aws-sdk-v2.ts';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  CognitoIdentityProviderClient,
  CreateGroupCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
  ListGroupsCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { type Config, DefaultConfig } from 'cognito-local/lib/server/config.js';
import { Router } from 'cognito-local/lib/server/Router.js';
import { createServer as createCognitoApp } from 'cognito-local/lib/server/server.js';
import { CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import { CryptoService } from 'cognito-local/lib/services/crypto.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import {
  DateClock,
  LambdaService,
  MessagesService,
  TriggersService,
} from 'cognito-local/lib/services/index.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import type { MessageSender } from 'cognito-local/lib/services/messageDelivery/messageSender.js';
import type { Message } from 'cognito-local/lib/services/messages.js';
import { JwtTokenGenerator } from 'cognito-local/lib/services/tokenGenerator.js';
import { type User, UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService.js';
import type { Logger } from 'pino';
import { serverStop } from './http-server.ts';
import { LOOPBACK, listenOnLoopback } from './ports.ts';

const ENGINE = 'cognito (cognito-local)';

// cognito-local's own dependencies, loaded from its location so we do not depend on hoisting.
const requireFromCognito = createRequire(createRequire(import.meta.url).resolve('cognito-local'));
const pino = requireFromCognito('pino') as typeof import('pino').default;
// aws-sdk v2 is what cognito-local's LambdaService expects; it is installed as its dependency.
const AWS = requireFromCognito('aws-sdk') as typeof import('aws-sdk');

/** Cognito triggers cognito-local can call, mapped to function names on the Lambda endpoint. */
export interface CognitoTriggers {
  PreSignUp?: string;
  PostConfirmation?: string;
  PreTokenGeneration?: string;
  PostAuthentication?: string;
  CustomMessage?: string;
  UserMigration?: string;
}

export interface CognitoOptions {
  /** Folder for the user pool database (created if missing, mode 0700: it holds passwords in clear). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Lambda Invoke endpoint triggers are sent to, e.g. from `startLambdaInvokeEndpoint`. */
  lambdaEndpoint?: string;
  triggers?: CognitoTriggers;
  /** Every confirmation code is this value (like cognito-local's `CODE` env var). Default: random. */
  fixedConfirmationCode?: string;
  /**
   * Each code "delivered" (sign-up confirmation, password reset), as it is recorded: where the
   * local platform's outbox takes it (no email is ever sent). Default: only `lastCode` knows it.
   */
  onCode?: (sent: SentCode) => void;
  /** Receives cognito-local's warnings and errors (e.g. a failing trigger). Default: dropped. */
  onLog?: (line: string) => void;
}

export interface SentCode {
  /** Email address (or phone number) the code was "sent" to. */
  destination: string;
  /** The internal username (the user's `sub` when email is the username). */
  username: string;
  code: string;
  at: Date;
}

export interface CognitoHandle {
  /** e.g. `http://127.0.0.1:9229`; give it to CognitoIdentityProviderClient as `endpoint`. */
  endpoint: string;
  port: number;
  /** The last confirmation/reset code "delivered" to this address since start; no email is sent. */
  lastCode(destination: string): string | undefined;
  timings: { startMs: number };
  /**
   * Where clients reach this Cognito from now on (e.g. an IAM gate in front of it): the issuer of
   * new tokens and the discovery document name it instead of the engine's own endpoint.
   */
  publishAt(publicEndpoint: string): void;
  stop(): Promise<void>;
}

export async function startCognito(options: CognitoOptions): Promise<CognitoHandle> {
  const began = performance.now();
  const dataDir = path.resolve(options.dataDir);
  const dbDir = path.join(dataDir, '.cognito', 'db');
  await mkdir(dbDir, { recursive: true });
  await chmod(dataDir, 0o700);

  const server = createHttpServer();
  const port = await listenOnLoopback(server, options.port, ENGINE);
  const endpoint = `http://${LOOPBACK}:${port}`;
  let publicEndpoint = endpoint;

  const logger = createLogger(options.onLog);
  const ctx = { logger };
  const config: Config = {
    ...DefaultConfig,
    LambdaClient: {
      endpoint: options.lambdaEndpoint ?? `http://${LOOPBACK}:1`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      // Cognito gives a trigger 5 s; a dead local endpoint should fail the call, not stall it.
      maxRetries: 0,
      httpOptions: { timeout: 5_000, connectTimeout: 1_000 },
    },
    TriggerFunctions: { ...options.triggers },
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: { IssuerDomain: endpoint },
    ServerConfig: { port, hostname: LOOPBACK, development: false, https: false },
  };

  const sent = new Map<string, SentCode>();
  const recorder: MessageSender = {
    sendEmail: (_ctx, user, destination, message) => record(sent, user, destination, message, options.onCode),
    sendSms: (_ctx, user, destination, message) => record(sent, user, destination, message, options.onCode),
  };

  const clock = new DateClock();
  const dataStoreFactory = new StormDBDataStoreFactory(dbDir);
  const cognitoServiceFactory = new CognitoServiceFactoryImpl(
    dbDir,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  );
  const cognito = await cognitoServiceFactory.create(ctx, config.UserPoolDefaults);
  const triggers = new TriggersService(
    clock,
    cognito,
    new LambdaService(config.TriggerFunctions, new AWS.Lambda(config.LambdaClient)),
    new CryptoService(config.KMSConfig),
  );
  const code = options.fixedConfirmationCode;
  const services: Services = {
    clock,
    cognito,
    config,
    messages: new MessagesService(triggers, new MessageDeliveryService(recorder)),
    otp: () =>
      code ??
      Math.floor(Math.random() * 1_000_000)
        .toString()
        .padStart(6, '0'),
    tokenGenerator: new JwtTokenGenerator(clock, triggers, config.TokenConfig),
    triggers,
  };
  const app = createCognitoApp(Router(services), logger, config.ServerConfig, services).application as (
    request: IncomingMessage,
    response: ServerResponse,
  ) => void;

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    // cognito-local's discovery document hard-codes http://localhost:9229; answer with the real one.
    const discovery = /^\/([^/]+)\/\.well-known\/openid-configuration$/.exec(request.url ?? '');
    if (request.method === 'GET' && discovery?.[1] !== undefined) {
      const issuer = `${publicEndpoint}/${discovery[1]}`;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks.json`,
          id_token_signing_alg_values_supported: ['RS256'],
        }),
      );
      return;
    }
    app(request, response);
  });

  const stop = serverStop(server, { forceCloseAfterMs: 2_000 });

  return {
    endpoint,
    port,
    lastCode: (destination) => sent.get(destination.toLowerCase())?.code,
    timings: { startMs: Math.round(performance.now() - began) },
    publishAt: (url) => {
      publicEndpoint = url;
      // cognito-local's token generator reads the issuer domain from this object for every token.
      config.TokenConfig.IssuerDomain = url;
    },
    stop,
  };
}

function record(
  sent: Map<string, SentCode>,
  user: User,
  destination: string,
  message: Message,
  onCode: ((sent: SentCode) => void) | undefined,
): Promise<void> {
  if (message.__code !== undefined) {
    const code: SentCode = { destination, username: user.Username, code: message.__code, at: new Date() };
    sent.set(destination.toLowerCase(), code);
    onCode?.(code);
  }
  return Promise.resolve();
}

function createLogger(onLog: ((line: string) => void) | undefined): Logger {
  if (onLog === undefined) return pino({ level: 'silent' });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') onLog(line);
      done();
    },
  });
  return pino({ level: 'warn', base: { engine: 'cognito-local' } }, sink);
}

export interface EnsureUserPoolOptions {
  /** The local Cognito endpoint (`CognitoHandle.endpoint`). */
  endpoint: string;
  poolName: string;
  clientName: string;
  groups: string[];
}

export interface UserPoolIds {
  userPoolId: string;
  clientId: string;
  /** The `iss` claim of this pool's tokens; configure JwtVerifier with it. */
  issuer: string;
  jwksUri: string;
}

/**
 * Creates the user pool, app client and groups the platform expects, or finds them by name
 * (safe to run on every start). The pool mirrors the CDK one: email is the username, email is
 * auto-verified, custom attribute `tenant_name`; the client has no secret and allows
 * USER_PASSWORD_AUTH (what the CLI and tests use) and refresh.
 */
export async function ensureUserPool(options: EnsureUserPoolOptions): Promise<UserPoolIds> {
  const client = new CognitoIdentityProviderClient({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
    let userPoolId = pools.UserPools?.find((pool) => pool.Name === options.poolName)?.Id;
    if (userPoolId === undefined) {
      const created = await client.send(
        new CreateUserPoolCommand({
          PoolName: options.poolName,
          UsernameAttributes: ['email'],
          AutoVerifiedAttributes: ['email'],
          Schema: [{ Name: 'tenant_name', AttributeDataType: 'String', Mutable: true }],
        }),
      );
      userPoolId = created.UserPool?.Id;
    }
    if (userPoolId === undefined) throw new Error(`${ENGINE}: CreateUserPool returned no pool id`);

    const clients = await client.send(
      new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }),
    );
    let clientId = clients.UserPoolClients?.find((c) => c.ClientName === options.clientName)?.ClientId;
    if (clientId === undefined) {
      const created = await client.send(
        new CreateUserPoolClientCommand({
          UserPoolId: userPoolId,
          ClientName: options.clientName,
          GenerateSecret: false,
          // The flows the CDK app's client allows (infra/stacks/identity-stack.ts: password and
          // refresh). cognito-local stores them without enforcing them (docs/local-platform.md).
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
          AccessTokenValidity: 60,
          IdTokenValidity: 60,
          RefreshTokenValidity: 30,
          TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes', RefreshToken: 'days' },
        }),
      );
      clientId = created.UserPoolClient?.ClientId;
    }
    if (clientId === undefined) throw new Error(`${ENGINE}: CreateUserPoolClient returned no client id`);

    // ListGroups, not GetGroup: cognito-local's GetGroup fails with a 500 on a pool without groups.
    const existing = await client.send(new ListGroupsCommand({ UserPoolId: userPoolId, Limit: 60 }));
    const names = new Set(existing.Groups?.map((group) => group.GroupName));
    for (const group of options.groups) {
      if (!names.has(group)) {
        await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group }));
      }
    }

    const issuer = `${options.endpoint.replace(/\/+$/, '')}/${userPoolId}`;
    return { userPoolId, clientId, issuer, jwksUri: `${issuer}/.well-known/jwks.json` };
  } finally {
    client.destroy();
  }
}

/**
 * aws-jwt-verify fetches JWKS with `https.request` only, so `http://127.0.0.1/...` fails with
 * ERR_INVALID_PROTOCOL. Pass this cache to `JwtVerifier.create(props, { jwksCache })` on the
 * local platform. It fetches over plain HTTP from loopback addresses only, so it cannot be
 * pointed at a key set elsewhere on the network by mistake.
 */
export function loopbackJwksCache(): SimpleJwksCache {
  return new SimpleJwksCache({
    fetcher: {
      fetch: async (uri) => {
        const url = new URL(uri);
        if (url.protocol !== 'http:' || !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
          throw new Error(`loopbackJwksCache: refusing to fetch ${uri}: only http on loopback is allowed`);
        }
        const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
        if (!response.ok) throw new Error(`loopbackJwksCache: ${uri} answered ${response.status}`);
        return response.arrayBuffer();
      },
    },
  });
}
