import type { AwsClientConfig } from '#shared/adapters/aws-client-config';

/** The AWS services a Tenantry function may call, by the name of their endpoint. */
export type AwsService =
  | 'rdsData'
  | 'secretsManager'
  | 'eventBridge'
  | 'dynamodb'
  | 'cognitoIdentityProvider'
  | 'sfn'
  | 'sts'
  | 'sqs'
  | 's3';

/**
 * How a function's SDK clients are made, beyond each service's own options. In Lambda nothing:
 * the clients find the function's region, role credentials and AWS's endpoints themselves. The
 * local platform gives each function its region, its own credentials and the stand-ins' endpoints
 * explicitly, as objects — never through `process.env`.
 */
export interface AwsClients {
  readonly region?: string;
  readonly credentials?: AwsClientConfig['credentials'];
  /** @default - AWS's endpoint of the service */
  readonly endpoints?: Partial<Record<AwsService, string>>;
}

/** The options of one service's client. */
export function clientOptions(clients: AwsClients, service: AwsService) {
  const endpoint = clients.endpoints?.[service];
  return {
    ...(clients.region ? { region: clients.region } : {}),
    ...(clients.credentials ? { credentials: clients.credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
  };
}
