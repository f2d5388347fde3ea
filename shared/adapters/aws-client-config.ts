/**
 * What every AWS SDK client of a function is built with, beyond its service's own options. In
 * Lambda nothing: the clients find the function's role credentials and region themselves. The
 * local platform runs many functions in one process, so it gives each function's clients that
 * function's own credentials, and the local stand-ins judge each call by its role's policies.
 */
export interface AwsClientConfig {
  readonly credentials?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  };
}
