import { describe, expect, it } from 'vitest';
import { stageSchema } from '#infra/app';
import {
  MAX_DATA_API_SECRET_ARN_LENGTH,
  secretNameFor,
  tenantSecretPrefix,
} from '#shared/provisioning/names';

/**
 * A tenant's secret ARN must fit the Data API's `secretArn`, at most 100 characters
 * (https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html):
 * with the old names every tenant statement was refused with a ValidationException.
 */
describe('tenant secret names', () => {
  // The longest region names of the aws partition have 14 characters (ap-southeast-2 and the like);
  // Secrets Manager appends `-` and 6 random characters to the name.
  const arnOf = (name: string, region = 'ap-southeast-2') =>
    `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`;
  const longestStage = 'a'.repeat(11);
  const tenantId = 't_abcdefghijklmnopqrst';

  it('keep the ARN within the Data API limit for the longest stage the app accepts', () => {
    expect(stageSchema.safeParse(longestStage).success).toBe(true);
    const arn = arnOf(secretNameFor(longestStage, tenantId));
    expect(arn.length).toBeLessThanOrEqual(MAX_DATA_API_SECRET_ARN_LENGTH);
  });

  it('refuse a stage that would not fit, at synth time', () => {
    expect(stageSchema.safeParse('a'.repeat(12)).success).toBe(false);
  });

  it('start with the stage prefix the IAM grants name, and end in the tenant id', () => {
    const name = secretNameFor('dev', tenantId);
    expect(name.startsWith(tenantSecretPrefix('dev'))).toBe(true);
    expect(name.endsWith(tenantId.slice(2))).toBe(true);
    expect(() => secretNameFor('dev', 'not-a-tenant')).toThrow();
  });
});
