/**
 * What the cost model reads from the synthesized templates: the settings that decide what a
 * request costs (function memory and architecture, the records queue's batch size and window, how
 * many rules an event matches, the tables' billing mode, the archive's retention) and what an idle
 * deployment pays for (alarms, schedules, the cluster's minimum capacity, secrets). Nothing here is
 * written by hand, so a change to the CDK app changes docs/cost.md.
 */
import { eventSourceMappingsOf } from '#infra/local/iam/event-source-mappings';
import { type CloudAssemblyTemplates, functionPoliciesOf } from '#infra/local/iam/template-policies';
import { RequestRecorded, UsageRecorded } from '#shared/events/events';
import { subscriptions } from '#shared/events/subscriptions';
import { RECORD_JOB_HANDLERS } from '#shared/records/scheduled-jobs';
import { routeList } from '#shared/routes/table';

export type Architecture = 'arm64' | 'x86_64';

export interface FunctionSettings {
  readonly entry: string;
  readonly memoryMb: number;
  readonly architecture: Architecture;
}

export interface ConsumerSettings extends FunctionSettings {
  /** Messages per invocation at most (`BatchSize`). */
  readonly batchSize: number;
  /** How long Lambda gathers a batch (`MaximumBatchingWindowInSeconds`). */
  readonly batchingWindowSeconds: number;
}

export interface Deployment {
  readonly stage: string;
  /** The functions behind the HTTP API routes. */
  readonly routeFunctions: readonly FunctionSettings[];
  /** The SQS-fed consumer of `Request Recorded`. */
  readonly recordsConsumer: ConsumerSettings;
  /** SQS event source mappings in the app (each is a set of pollers on an idle queue). */
  readonly queueConsumers: number;
  /** Rules that match a `Request Recorded` entry: each delivers (and bills) one SQS message. */
  readonly rulesPerRequestEntry: number;
  /** Rules that match a `Usage Recorded` entry (the storage snapshot's events). */
  readonly rulesPerUsageEntry: number;
  readonly storageSnapshot: FunctionSettings;
  /** DynamoDB tables and whether each is on-demand (`PAY_PER_REQUEST`). */
  readonly tables: readonly { readonly logicalId: string; readonly onDemand: boolean }[];
  /** Days the bus archive keeps each event; null when there is no archive (0 in a template: forever). */
  readonly archiveRetentionDays: number | null;
  readonly alarms: number;
  readonly schedules: number;
  /** Secrets the templates create (tenant secrets are made at runtime and are not among them). */
  readonly templateSecrets: number;
  readonly auroraMinAcu: number;
  readonly auroraMaxAcu: number;
}

interface Resource {
  readonly Type?: string;
  readonly Properties?: Record<string, unknown>;
}

function resourcesOf(assembly: CloudAssemblyTemplates): { stack: string; id: string; resource: Resource }[] {
  return assembly.stacks.flatMap((stack) =>
    Object.entries((stack.template as { Resources?: Record<string, Resource> }).Resources ?? {}).map(
      ([id, resource]) => ({ stack: stack.name, id, resource }),
    ),
  );
}

const ofType = (all: ReturnType<typeof resourcesOf>, type: string) =>
  all.filter((entry) => entry.resource.Type === type);

/** The detail-types a rule's pattern matches (a rule without one matches none of ours). */
function detailTypesOf(rule: Resource): string[] {
  const pattern = rule.Properties?.EventPattern as { 'detail-type'?: unknown } | undefined;
  const types = pattern?.['detail-type'];
  return Array.isArray(types) ? types.filter((type): type is string => typeof type === 'string') : [];
}

/** Whether one of the rule's targets is a queue of the same stack (`Fn::GetAtt: [queue, Arn]`). */
function targetsQueue(rule: Resource, queueIds: ReadonlySet<string>): boolean {
  const targets = rule.Properties?.Targets;
  if (!Array.isArray(targets)) return false;
  return targets.some((target: { Arn?: { 'Fn::GetAtt'?: [string, string] } }) => {
    const [id] = target.Arn?.['Fn::GetAtt'] ?? [];
    return id !== undefined && queueIds.has(id);
  });
}

/** The cost-relevant settings of the app in `assembly`, synthesized for `stage`. */
export function deploymentOf(assembly: CloudAssemblyTemplates, stage: string): Deployment {
  const all = resourcesOf(assembly);
  const policies = functionPoliciesOf(assembly);
  const settingsOf = (entry: string): FunctionSettings => {
    const fn = policies.find((candidate) => candidate.entry === entry);
    const resource = all.find(
      (candidate) => candidate.stack === fn?.stack && candidate.id === fn?.functionLogicalId,
    )?.resource;
    if (!fn || !resource) throw new Error(`No function for ${entry} in the templates`);
    const architectures = resource.Properties?.Architectures;
    return {
      entry,
      // CloudFormation's defaults: 128 MB, x86_64.
      memoryMb: Number(resource.Properties?.MemorySize ?? 128),
      architecture: Array.isArray(architectures) && architectures.includes('arm64') ? 'arm64' : 'x86_64',
    };
  };

  const mappings = eventSourceMappingsOf(assembly, policies);
  const consumerEntry = subscriptions.find((subscription) =>
    subscription.detailTypes.includes(RequestRecorded.detailType),
  )?.handler;
  const mapping = mappings.find((candidate) => candidate.entry === consumerEntry);
  if (!consumerEntry || !mapping) throw new Error('No SQS event source mapping consumes Request Recorded');

  // Only the rules whose target is a queue bill SQS requests; the audit archive's rules put their
  // records into its Firehose stream (docs/audit-archive.md), which the model does not price.
  const queueIds = new Set(ofType(all, 'AWS::SQS::Queue').map(({ id }) => id));
  const rules = ofType(all, 'AWS::Events::Rule')
    .filter(({ resource }) => targetsQueue(resource, queueIds))
    .map(({ resource }) => detailTypesOf(resource));
  const archive = ofType(all, 'AWS::Events::Archive')[0]?.resource;
  const cluster = ofType(all, 'AWS::RDS::DBCluster')[0]?.resource;
  const scaling = cluster?.Properties?.ServerlessV2ScalingConfiguration as
    | { MinCapacity?: unknown; MaxCapacity?: unknown }
    | undefined;
  const routeEntries = [...new Set(routeList.map((route) => route.handler))].sort();

  return {
    stage,
    routeFunctions: routeEntries.map(settingsOf),
    recordsConsumer: {
      ...settingsOf(consumerEntry),
      batchSize: mapping.batchSize,
      batchingWindowSeconds: mapping.batchingWindowSeconds,
    },
    queueConsumers: mappings.length,
    rulesPerRequestEntry: rules.filter((types) => types.includes(RequestRecorded.detailType)).length,
    rulesPerUsageEntry: rules.filter((types) => types.includes(UsageRecorded.detailType)).length,
    storageSnapshot: settingsOf(RECORD_JOB_HANDLERS.storageSnapshot),
    tables: ofType(all, 'AWS::DynamoDB::Table').map(({ id, resource }) => ({
      logicalId: id,
      onDemand: resource.Properties?.BillingMode === 'PAY_PER_REQUEST',
    })),
    archiveRetentionDays: archive ? Number(archive.Properties?.RetentionDays ?? 0) : null,
    alarms: ofType(all, 'AWS::CloudWatch::Alarm').length,
    schedules: ofType(all, 'AWS::Scheduler::Schedule').length,
    templateSecrets: ofType(all, 'AWS::SecretsManager::Secret').length,
    auroraMinAcu: Number(scaling?.MinCapacity ?? 0),
    auroraMaxAcu: Number(scaling?.MaxCapacity ?? 0),
  };
}
