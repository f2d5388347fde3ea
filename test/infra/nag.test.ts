import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type TenantryApp } from '#infra/app';
import { MIN_REASON_LENGTH } from '#infra/nag';

/**
 * cdk-nag 3 runs as a CDK validation plugin (not an Aspect writing annotations), so findings are
 * read from `validateScope`, the same code the plugin runs at synth time, per stack.
 */
function stacksOf(built: TenantryApp): Stack[] {
  return [...built.stacks];
}

function describeFindings(report: ReturnType<AwsSolutionsChecks['validateScope']>): string[] {
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map(
      (resource) => `${violation.severity} ${violation.ruleName} at ${resource.constructPath}`,
    ),
  );
}

// prod with two clusters: every cluster must be as clean as the first (docs/clusters.md).
describe.each([
  ['dev', 1],
  ['prod', 2],
])('cdk-nag AwsSolutions on stage %s with %i clusters', (stage, clusters) => {
  let built: TenantryApp;
  let templates: Template[];

  beforeAll(() => {
    built = buildApp({ stage, bundle: false, cloudFormationValidation: false, clusters });
    // Synthesising runs the plugin too (and throws on errors); the per-stack check below also
    // catches warnings, which synthesis only reports.
    templates = stacksOf(built).map((stack) => Template.fromStack(stack));
  });

  it('has no unacknowledged error or warning in any stack', () => {
    for (const stack of stacksOf(built)) {
      const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack);
      expect(describeFindings(report), stack.stackName).toEqual([]);
      expect(report.success).toBe(true);
    }
  });

  it('gives every acknowledgement in the templates a specific reason', () => {
    const acknowledgements = templates.flatMap((template) =>
      Object.values(
        template.toJSON().Resources as Record<string, { Metadata?: Record<string, unknown> }>,
      ).flatMap(
        (resource) =>
          ((resource.Metadata?.cdk_nag as { rules_to_suppress?: { id: string; reason: string }[] })
            ?.rules_to_suppress ?? []) as { id: string; reason: string }[],
      ),
    );
    const ours = acknowledgements.filter(({ id }) => id.startsWith('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(0);
    for (const { id, reason } of ours) {
      expect(id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(reason.trim().length, id).toBeGreaterThanOrEqual(MIN_REASON_LENGTH);
    }
  });

  it('acknowledges nothing for a whole stack', () => {
    for (const stack of stacksOf(built)) {
      const stackLevel = stack.node.metadata
        .filter((entry) => entry.type === 'aws:cdk:acknowledged-rules')
        .flatMap((entry) => Object.keys(entry.data as Record<string, string>))
        .filter((id) => id.includes('AwsSolutions-'));
      expect(stackLevel, stack.stackName).toEqual([]);
    }
  });
});

describe('the cdk-nag check itself', () => {
  it('reports a finding that nobody acknowledged', () => {
    // Arrange: a queue without TLS enforcement or a dead-letter queue
    const stack = new Stack(new App({ autoSynth: false }), 'Probe');
    new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.SQS_MANAGED });

    // Act
    const report = new AwsSolutionsChecks().validateScope(stack);

    // Assert
    expect(describeFindings(report)).toEqual(
      expect.arrayContaining([
        'error AwsSolutions-SQS3 at Probe/Queue/Resource',
        'error AwsSolutions-SQS4 at Probe/Queue/Resource',
      ]),
    );
  });
});
