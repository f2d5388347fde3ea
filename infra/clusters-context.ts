import { type ClusterSetting, clustersContextSchema } from '#shared/domain/clusters';

export class InvalidClustersError extends Error {
  constructor(reason: string) {
    super(`Invalid cluster configuration (CDK context "clusters"): ${reason}`);
    this.name = 'InvalidClustersError';
  }
}

/**
 * The database clusters from the CDK context `clusters` (docs/clusters.md): a count (`-c
 * clusters=2`: `primary`, `c2`) or a JSON list of `{id, name?, capacity?}` whose first is
 * `primary`; without it, the one cluster `primary`. Validated here, so that a bad value stops the
 * synthesis with its reason rather than a deployment.
 */
export function clustersFromContext(value: unknown): ClusterSetting[] {
  let config: unknown = value ?? 1;
  if (typeof config === 'string') {
    // The command line gives strings: a count or JSON.
    const text = config.trim();
    if (/^\d+$/.test(text)) config = Number(text);
    else {
      try {
        config = JSON.parse(text);
      } catch {
        throw new InvalidClustersError('give a count (1 to 8) or a JSON list of {"id", "name", "capacity"}');
      }
    }
  }
  const parsed = clustersContextSchema.safeParse(config);
  if (!parsed.success) {
    throw new InvalidClustersError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; '),
    );
  }
  return parsed.data;
}
