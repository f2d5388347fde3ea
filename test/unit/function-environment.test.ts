import { describe, expect, it } from 'vitest';
import type { AwsStandIns } from '#infra/local/aws-stand-ins';
import type { UserPoolIds } from '#infra/local/engines/cognito';
import { functionEnvironment } from '#infra/local/function-runtime';
import { platformEnvironment } from '#infra/local/function-services';
import { awsServices } from '#shared/composition/aws-services';

/*
 * Each local function sees the variables its template gives it, as a Lambda function does: the
 * platform sets them all in its one process, so without this a function the CDK app gives no bus
 * (GET /health) would publish telemetry and be refused by IAM on every request.
 */

const platform = {
  AWS_REGION: 'us-east-1',
  TENANTRY_STAGE: 'local',
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8001',
  EVENT_BUS_NAME: 'tenantry-local',
  CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:tenantry-local',
  CLUSTER_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:m-AbCdEf',
  AUDIT_TABLE_NAME: 'tenantry-local-audit',
  USAGE_TABLE_NAME: 'tenantry-local-usage',
  USER_POOL_ID: 'local_x',
  EXPORTS_DIR: '/state/exports',
  TELEMETRY_DEAD_LETTER_FILE: '/state/telemetry-dead-letter.jsonl',
};

describe('the environment of one local function', () => {
  it('drops the per-function variables its template does not set, keeps the platform-wide ones', () => {
    expect(functionEnvironment(platform, [])).toEqual({
      AWS_REGION: 'us-east-1',
      TENANTRY_STAGE: 'local',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:8001',
    });
  });

  it('keeps a local stand-in variable exactly when the template sets the AWS one it stands for', () => {
    const env = functionEnvironment(platform, ['EVENT_BUS_NAME', 'TELEMETRY_DLQ_URL', 'USAGE_TABLE_NAME']);
    expect(env.EVENT_BUS_NAME).toBe('tenantry-local');
    expect(env.TELEMETRY_DEAD_LETTER_FILE).toBe('/state/telemetry-dead-letter.jsonl');
    expect(env.USAGE_TABLE_NAME).toBe('tenantry-local-usage');
    expect(env).not.toHaveProperty('AUDIT_TABLE_NAME');
    expect(env).not.toHaveProperty('EXPORTS_DIR');
    expect(env).not.toHaveProperty('CLUSTER_ARN');
    expect(functionEnvironment(platform, ['EXPORTS_BUCKET_NAME']).EXPORTS_DIR).toBe('/state/exports');
  });

  it('gives code that is no function of the templates the whole environment', () => {
    expect(functionEnvironment(platform, undefined)).toEqual(platform);
  });
});

describe('the platform environment without rate limits (the benchmark baseline)', () => {
  const standIns = {
    clusterArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tenantry-local',
    masterSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:m-AbCdEf',
    controlSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:c-AbCdEf',
    clusters: [
      {
        id: 'primary',
        clusterArn: 'arn:aws:rds:us-east-1:000000000000:cluster:tenantry-local',
        masterSecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:m-AbCdEf',
      },
    ],
  } as unknown as AwsStandIns;
  const of = (rateLimits: boolean) =>
    platformEnvironment({
      stage: 'local',
      stateDir: '/state',
      pool: { userPoolId: 'local_x', clientId: 'client' } as UserPoolIds,
      tables: {
        audit: 'tenantry-local-audit',
        usage: 'tenantry-local-usage',
        limits: 'tenantry-local-limits',
      },
      eventBusName: 'tenantry-local',
      standIns,
      tenantAccessRoleArn: undefined,
      tenantPlans: '{}',
      backupsKeyArn: 'arn:aws:kms:us-east-1:000000000000:key/0000b4c0-0000-4000-8000-00000000b4c0',
      rateLimits,
    });

  it('gives the limits table by default and drops only it without rate limits, so no function has a limiter', () => {
    const on = of(true);
    const off = of(false);
    expect(on.LIMITS_TABLE_NAME).toBe('tenantry-local-limits');
    expect(off).not.toHaveProperty('LIMITS_TABLE_NAME');
    const { LIMITS_TABLE_NAME: _dropped, ...rest } = on;
    expect(off).toEqual(rest);
    // What the composition root makes of it: a limiter with the table, none without.
    expect(
      awsServices(functionEnvironment(on, ['LIMITS_TABLE_NAME']), { region: 'us-east-1' }).limiter,
    ).not.toBeNull();
    expect(
      awsServices(functionEnvironment(off, ['LIMITS_TABLE_NAME']), { region: 'us-east-1' }).limiter,
    ).toBeNull();
  });
});
