import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  COST_DOC_PATH,
  COST_END,
  COST_STAGES,
  COST_START,
  costSection,
  withCostSection,
} from '#infra/local/cost/cost-doc';
import {
  ASSUMPTIONS,
  type Assumptions,
  BILLING_CHUNK_BYTES,
  entriesPerRequest,
  eventSizes,
  eventsPerBatch,
  expectedDistinct,
  invocationsPer1000,
  type ScenarioInputs,
  scenarioFigures,
  telemetryCost,
  telemetryUsage,
  total,
} from '#infra/local/cost/cost-model';
import { type Deployment, deploymentOf } from '#infra/local/cost/deployment';
import { synthesizeAssembly } from '#infra/local/iam/cloud-assembly';
import type { CloudAssemblyTemplates } from '#infra/local/iam/template-policies';
import { RECORDS_QUEUE_DELIVERY } from '#shared/events/delivery-policy';

/*
 * docs/cost.md carries the cost model's figures, generated from the synthesized templates and the
 * price table. `npm run docs:cost` rewrites them; the first test fails when the checked-in section
 * is not what the templates and prices give now. The others check the model's arithmetic on
 * hand-made inputs, and that the templates (not constants) drive it.
 */

/** A deployment small enough to reason about by hand. */
const handMade: Deployment = {
  stage: 'test',
  routeFunctions: [{ entry: 'me/get-me', memoryMb: 1024, architecture: 'arm64' }],
  recordsConsumer: {
    entry: 'events/record-telemetry',
    memoryMb: 1024,
    architecture: 'arm64',
    batchSize: 100,
    batchingWindowSeconds: 10,
  },
  queueConsumers: 1,
  rulesPerRequestEntry: 1,
  rulesPerUsageEntry: 1,
  storageSnapshot: { entry: 'usage/snapshot-storage', memoryMb: 1024, architecture: 'arm64' },
  tables: [{ logicalId: 'UsageTable', onDemand: true }],
  archiveRetentionDays: null,
  alarms: 0,
  schedules: 0,
  templateSecrets: 0,
  auroraMinAcu: 0,
  auroraMaxAcu: 1,
};

/** One poller, half the requests mutating, audit items of one write unit. */
const handAssumptions: Assumptions = {
  ...ASSUMPTIONS,
  mutatingFraction: 0.5,
  tenantFraction: 1,
  pollers: 1,
  auditItemKb: 1,
};

const inputs = (overrides: Partial<ScenarioInputs> = {}): ScenarioInputs => ({
  deployment: handMade,
  scenario: { name: 'hand-made', requestsPerSecond: 10, tenants: 1 },
  assumptions: handAssumptions,
  sizes: eventSizes(),
  ...overrides,
});

describe('the generated cost section of docs/cost.md', () => {
  let assemblies: CloudAssemblyTemplates[];
  let document: string;

  beforeAll(async () => {
    // Arrange
    assemblies = [];
    for (const stage of COST_STAGES) assemblies.push(await synthesizeAssembly({ stage }));
    document = await readFile(COST_DOC_PATH, 'utf8');
  });

  it('is the checked-in one (run `npm run docs:cost` after changing the app, a price or an assumption)', () => {
    // Act
    const section = costSection(
      assemblies.map((assembly, index) => deploymentOf(assembly, COST_STAGES[index] ?? '')),
    );
    // Assert
    const start = document.indexOf(COST_START);
    const end = document.indexOf(COST_END) + COST_END.length;
    expect(start).toBeGreaterThan(0);
    expect(document.slice(start, end)).toBe(section);
    // A different section changes the document: the check above can fail.
    expect(withCostSection(document, `${COST_START}\nx\n${COST_END}`)).not.toBe(document);
  });

  it('reads the records queue and its rule from the templates, as the CDK app writes them', () => {
    // Arrange
    const [prod] = assemblies;
    if (!prod) throw new Error('no prod assembly');
    // Act
    const deployment = deploymentOf(prod, 'prod');
    // Assert
    expect(deployment.recordsConsumer.batchSize).toBe(RECORDS_QUEUE_DELIVERY.batchSize);
    expect(deployment.recordsConsumer.batchingWindowSeconds).toBe(
      RECORDS_QUEUE_DELIVERY.batchingWindowSeconds,
    );
    expect(deployment.rulesPerRequestEntry).toBe(1);
    expect(deployment.tables.length).toBeGreaterThan(0);
    expect(deployment.tables.every((table) => table.onDemand)).toBe(true);
    expect(deployment.routeFunctions.length).toBeGreaterThan(10);
  });

  it('changes invocations per 1,000 requests when a template changes the batch size', () => {
    // Arrange: the prod templates with the records queue's batch size cut from 1,000 to 100
    const [prod] = assemblies;
    if (!prod) throw new Error('no prod assembly');
    const changed = structuredClone(prod);
    let mappings = 0;
    for (const stack of changed.stacks) {
      const resources = (
        stack.template as {
          Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
        }
      ).Resources;
      for (const resource of Object.values(resources ?? {})) {
        if (resource.Type !== 'AWS::Lambda::EventSourceMapping' || !resource.Properties) continue;
        resource.Properties.BatchSize = 100;
        mappings++;
      }
    }
    expect(mappings).toBe(1);
    const scenario = { name: '100 req/s', requestsPerSecond: 100, tenants: 1000 };
    const figuresOf = (assembly: CloudAssemblyTemplates) =>
      scenarioFigures({
        deployment: deploymentOf(assembly, 'prod'),
        scenario,
        assumptions: ASSUMPTIONS,
        sizes: eventSizes(),
      });
    // Act
    const original = figuresOf(prod);
    const smaller = figuresOf(changed);
    // Assert: 100 req/s × 30 s shared by five pollers is 600 events, so the batch size binds at 100
    expect(original.invocationsPer1000.after).toBeCloseTo(1000 / 600, 6);
    expect(smaller.invocationsPer1000.after).toBeCloseTo(10, 6);
    expect(smaller.telemetryTotal.after).toBeGreaterThan(original.telemetryTotal.after);
  });
});

describe('the cost model on a hand-made scenario', () => {
  it('expects T·(1 − (1 − 1/T)^n) distinct tenants in a batch', () => {
    expect(expectedDistinct(1, 10)).toBe(1);
    expect(expectedDistinct(100, 1)).toBeCloseTo(1, 10);
    expect(expectedDistinct(2, 2)).toBeCloseTo(1.5, 10);
    expect(expectedDistinct(1000, 1000)).toBeCloseTo(632.305, 2);
    expect(expectedDistinct(10, 0)).toBe(0);
  });

  it('closes a batch at its window, at its size, and never below one event', () => {
    const consumer = { batchSize: 1000, batchingWindowSeconds: 30 };
    expect(eventsPerBatch(consumer, 10, 1)).toBe(300);
    expect(eventsPerBatch(consumer, 10, 5)).toBe(60);
    expect(eventsPerBatch(consumer, 100, 1)).toBe(1000);
    expect(eventsPerBatch(consumer, 0.01, 5)).toBe(1);
    expect(invocationsPer1000(eventsPerBatch(consumer, 10, 5))).toBeCloseTo(1000 / 60, 10);
  });

  it('puts 2–3 entries a request before and one after', () => {
    expect(entriesPerRequest('before', handAssumptions)).toBe(2.5);
    expect(
      entriesPerRequest('before', { ...handAssumptions, mutatingFraction: 0, tenantFraction: 0.5 }),
    ).toBe(1.5);
    expect(entriesPerRequest('after', handAssumptions)).toBe(1);
  });

  it('counts the old consumers’ writes per record, and the batch’s writes per event and per batch', () => {
    // 10 req/s × 10 s, one poller: batches of 100, every event from the one tenant.
    const before = telemetryUsage('before', inputs());
    const after = telemetryUsage('after', inputs());
    // Before: half an audit put, 3 usage writes, 3 metric writes.
    expect(before.dynamoDbWriteUnits).toBeCloseTo(6.5, 10);
    expect(before.consumerInvocations).toBe(2.5);
    // After: half an audit put and a claim per event; a rollup, an hour and a marker per 100.
    expect(after.dynamoDbWriteUnits).toBeCloseTo(0.5 + 1 + 3 / 100, 10);
    expect(after.consumerInvocations).toBeCloseTo(1 / 100, 10);
    // A send, a receive per message (one poller sees 10 a second: 0.2 in a round trip), 10 deletes per 100.
    expect(after.sqsRequests).toBeCloseTo(1 + 1 + 0.1, 10);
  });

  it('prices one entry a request at exactly EventBridge’s price, and a second rule doubles the queue’s requests', () => {
    const after = telemetryCost('after', inputs());
    expect(after.find((item) => item.item === 'EventBridge entries')?.usdPerMillion).toBeCloseTo(1, 10);
    const twoRules = telemetryUsage(
      'after',
      inputs({ deployment: { ...handMade, rulesPerRequestEntry: 2 } }),
    );
    expect(twoRules.sqsRequests).toBeCloseTo(2 * telemetryUsage('after', inputs()).sqsRequests, 10);
  });

  it('judges the goals: large batches pass the invocations goal, one-event batches miss it', () => {
    const busy = scenarioFigures(inputs());
    const quiet = scenarioFigures(
      inputs({ scenario: { name: 'quiet', requestsPerSecond: 0.05, tenants: 1 } }),
    );
    expect(busy.goals.invocations).toBe(true);
    expect(quiet.invocationsPer1000.after).toBe(1000);
    expect(quiet.goals.invocations).toBe(false);
    expect(busy.telemetryTotal.after).toBeCloseTo(total(busy.telemetry.after), 10);
    expect(busy.telemetryTotal.after).toBeLessThan(busy.telemetryTotal.before);
  });

  it('refuses to price writes of a provisioned table as on-demand', () => {
    const provisioned = { ...handMade, tables: [{ logicalId: 'UsageTable', onDemand: false }] };
    expect(() => scenarioFigures(inputs({ deployment: provisioned }))).toThrow(/provisioned/);
  });

  it('keeps a Request Recorded entry within one billing chunk, details at their cap included', () => {
    const sizes = eventSizes();
    expect(sizes.requestRead).toBeLessThan(sizes.requestMutating);
    expect(sizes.requestMutating).toBeLessThan(sizes.requestLargest);
    expect(sizes.requestLargest).toBeLessThan(BILLING_CHUNK_BYTES);
  });
});
