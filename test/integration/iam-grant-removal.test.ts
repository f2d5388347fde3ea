import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadAssembly } from '#infra/local/iam/platform-iam';
import type { CloudAssemblyTemplates } from '#infra/local/iam/template-policies';
import type { PlatformInfo } from '#infra/local/platform-info';
import { type Actor, clientFor, newActor, newTenant } from '../support/actors.ts';
import { type RunningPlatform, startPlatformProcess } from '../support/platform-process.ts';

/*
 * Issue 11: the local platform runs every function with the grants of the CDK app, so a grant
 * missing from the app fails locally, before `cdk deploy`. Here the app's templates lose one
 * statement, `AssumeTenantAccessRole` (infra/constructs/needs.ts, `tenantData`: the tenant-data
 * routes assume the tenant-access role for the tenant's session, which reads its secret), and a
 * second platform runs on them (`npm start -- --assembly`): the same requests that pass on the
 * real app fail there.
 */

const info: PlatformInfo = inject('platform');
const REMOVED_SID = 'AssumeTenantAccessRole';

interface PolicyResource {
  Type: string;
  Properties?: { PolicyDocument?: { Statement?: { Sid?: string }[] } };
}

/** The templates with every statement of that Sid in the API functions stacks (the routes) removed, and how many were. */
function withoutStatement(assembly: CloudAssemblyTemplates, sid: string) {
  let removed = 0;
  const stacks = assembly.stacks.map(({ name, template }) => {
    // The provisioning steps keep theirs: a new tenant still gets its database.
    if (!name.includes('-ApiFunctions-')) return { name, template };
    const copy = structuredClone(template) as { Resources: Record<string, PolicyResource> };
    for (const resource of Object.values(copy.Resources)) {
      const document = resource.Type === 'AWS::IAM::Policy' ? resource.Properties?.PolicyDocument : undefined;
      if (!document?.Statement) continue;
      const kept = document.Statement.filter((statement) => statement.Sid !== sid);
      removed += document.Statement.length - kept.length;
      document.Statement = kept;
    }
    return { name, template: copy };
  });
  return { assembly: { stacks }, removed };
}

/** A cloud assembly directory as `cdk synth` writes one: manifest.json and a template per stack. */
async function writeAssembly(dir: string, assembly: CloudAssemblyTemplates): Promise<void> {
  await mkdir(dir, { recursive: true });
  const artifacts: Record<string, unknown> = {};
  for (const { name, template } of assembly.stacks) {
    const templateFile = `${name}.template.json`;
    await writeFile(path.join(dir, templateFile), JSON.stringify(template));
    artifacts[name] = { type: 'aws:cloudformation:stack', properties: { templateFile, stackName: name } };
  }
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify({ version: '36.0.0', artifacts }));
}

/** Lists a new tenant's tables on the given platform: the route that needs the removed grant. */
async function listTablesOfNewTenant(platform: PlatformInfo): Promise<number> {
  const owner: Actor = await newActor(clientFor(platform), 'grant-removal');
  const { tenantId, tenant } = await newTenant(owner);
  expect(tenant.status).toBe('active');
  const databases = await owner.call('GET', `/tenants/${tenantId}/databases`);
  const databaseId = (databases.body as { items: { id: string }[] }).items[0]?.id;
  return (await owner.call('GET', `/tenants/${tenantId}/databases/${databaseId}/tables`)).status;
}

describe('a grant removed from the CDK app fails on the local platform', () => {
  let work: string;
  let mutated: RunningPlatform | undefined;
  let removed = 0;

  beforeAll(async () => {
    // Arrange: the app without the statement, and a platform that runs with it
    work = await mkdtemp(path.join(tmpdir(), 'tenantry-grant-removal-'));
    const without = withoutStatement(
      await loadAssembly({ stage: info.stage, repoRoot: process.cwd() }),
      REMOVED_SID,
    );
    removed = without.removed;
    await writeAssembly(path.join(work, 'cdk.out'), without.assembly);
    mutated = await startPlatformProcess(
      path.join(work, 'state'),
      90_000,
      [],
      // One cluster, as the assembly was synthesized with (a platform runs the clusters its
      // templates grant: docs/clusters.md); the test platform's two would meet no grant for c2.
      ['--assembly', path.join(work, 'cdk.out'), '--clusters', '1'],
    );
  });

  afterAll(async () => {
    await mutated?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('removes the statement from every tenant-data function', () => {
    // tables and rows routes (5 + 5) and the modules routes that reach tenant data
    expect(removed).toBeGreaterThanOrEqual(10);
  });

  it('lists tables on the platform with the real app', async () => {
    expect(await listTablesOfNewTenant(info)).toBe(200);
  });

  it('fails the same request on the platform without the grant: the function cannot get a tenant session', async () => {
    if (!mutated) throw new Error('the second platform did not start');
    // Act
    const status = await listTablesOfNewTenant(mutated.info);
    // Assert: provisioning still works (its steps keep their grants); the route does not
    expect(status).toBe(500);
    expect(mutated.output()).toContain('is not authorized to perform: sts:AssumeRole');
  });
});
