import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { mockClient } from 'aws-sdk-client-mock';

/**
 * Secrets Manager as a role with identity-based policy `statements` meets it: every call is
 * authorised first, against the request's resource and condition keys, and only then does the
 * service look at its secrets. So a call the policy's Allow does not cover is AccessDeniedException
 * even for a secret that does not exist ("IAM authorisation happens first":
 * https://github.com/jenkinsci/aws-secrets-manager-credentials-provider-plugin/pull/65). A missing
 * secret has no tags, and a `Null` condition on `secretsmanager:ResourceTag/<key>` requires the key
 * to be present (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null);
 * the request tags of CreateSecret are `aws:RequestTag/<key>`
 * (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html).
 * Small on purpose: Allow/Deny, Action and Resource with `*`/`?`, and the `Null` operator; any
 * other condition operator throws, so a policy this model cannot judge never passes silently.
 */

export const ACCOUNT_ID = '123456789012';
export const REGION = 'us-east-1';

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** The statements of a role's default policy, their ARNs resolved in this account and region. */
export function roleStatements(role: iam.Role): PolicyStatement[] {
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  if (!policy) return [];
  const document = Stack.of(role).resolve(policy.document.toJSON()) as { Statement: PolicyStatement[] };
  return document.Statement.map((statement) => ({ ...statement, Resource: resolve(statement.Resource) }));
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT_ID,
};

/** `Fn::Join` and pseudo-parameter `Ref`s; anything else (another stack's export) matches nothing. */
function resolve(value: unknown): unknown {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(resolve);
  const token = value as Record<string, unknown>;
  if (typeof token.Ref === 'string') return PSEUDO[token.Ref] ?? '<unresolved>';
  const join = token['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map((part) => String(resolve(part))).join(join[0]);
  return '<unresolved>';
}

const REGEX_SPECIAL = /[.+^$(){}|[\]\\]/g;

/** IAM's `*` (any run of characters) and `?` (one character); ARNs and actions compare case-insensitively here. */
function glob(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(REGEX_SPECIAL, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'i').test(value);
}

type Context = Record<string, string>;

function conditionsHold(condition: PolicyStatement['Condition'], context: Context): boolean {
  const present = new Set(Object.keys(context).map((key) => key.toLowerCase()));
  return Object.entries(condition ?? {}).every(([operator, keys]) => {
    if (operator !== 'Null') throw new Error(`This model does not evaluate the ${operator} operator`);
    return Object.entries(keys).every(
      ([key, isNull]) => present.has(key.toLowerCase()) === (isNull === 'false'),
    );
  });
}

export function allows(
  statements: readonly PolicyStatement[],
  action: string,
  resource: string,
  context: Context,
) {
  let allowed = false;
  for (const statement of statements) {
    if (![statement.Action].flat().some((pattern) => glob(pattern, action))) continue;
    if (
      ![statement.Resource].flat().some((pattern) => typeof pattern === 'string' && glob(pattern, resource))
    )
      continue;
    if (!conditionsHold(statement.Condition, context)) continue;
    if (statement.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly value: string;
  readonly tags: Record<string, string>;
}

/** In-memory Secrets Manager behind a real SDK client, judging each call by `statements`. */
export class TaggedSecretsManager {
  readonly secrets = new Map<string, StoredSecret>();
  /** `action resource` of every refused call, in order. */
  readonly refusals: string[] = [];
  readonly client = new SecretsManagerClient({
    region: REGION,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
  });

  constructor(private readonly statements: readonly PolicyStatement[]) {
    const sm = mockClient(this.client);
    sm.on(CreateSecretCommand).callsFake(
      async (input: { Name: string; SecretString: string; Tags?: Tag[] }) => {
        const tags = Object.fromEntries((input.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
        const context = Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, v]));
        this.authorize('secretsmanager:CreateSecret', this.arnOf(input.Name), context);
        if (input.Tags?.length) this.authorize('secretsmanager:TagResource', this.arnOf(input.Name), context);
        if (this.secrets.has(input.Name)) {
          throw new ResourceExistsException({
            message: `The operation failed because the secret ${input.Name} already exists.`,
            $metadata: { httpStatusCode: 400 },
          });
        }
        const arn = `${this.arnOf(input.Name)}-${randomBytes(3).toString('hex')}`;
        this.secrets.set(input.Name, { name: input.Name, arn, value: input.SecretString, tags });
        return { ARN: arn, Name: input.Name };
      },
    );
    sm.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }) => {
      const secret = this.existing('secretsmanager:GetSecretValue', input.SecretId);
      return { ARN: secret.arn, Name: secret.name, SecretString: secret.value };
    });
    sm.on(DescribeSecretCommand).callsFake(async (input: { SecretId: string }) => {
      const secret = this.existing('secretsmanager:DescribeSecret', input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        Tags: Object.entries(secret.tags).map(([Key, Value]) => ({ Key, Value })),
      };
    });
    sm.on(DeleteSecretCommand).callsFake(async (input: { SecretId: string }) => {
      const secret = this.existing('secretsmanager:DeleteSecret', input.SecretId);
      this.secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: new Date() };
    });
    sm.on(ListSecretsCommand).callsFake(async () => {
      this.authorize('secretsmanager:ListSecrets', '*', {});
      return { SecretList: [...this.secrets.values()].map((s) => ({ ARN: s.arn, Name: s.name })) };
    });
  }

  /** The secret's ARN; for a name with no secret, the name-based ARN a request for it is judged on. */
  private arnOf(nameOrArn: string): string {
    if (nameOrArn.startsWith('arn:')) return nameOrArn;
    return (
      this.secrets.get(nameOrArn)?.arn ?? `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:${nameOrArn}`
    );
  }

  private find(nameOrArn: string): StoredSecret | undefined {
    return [...this.secrets.values()].find((s) => s.name === nameOrArn || s.arn === nameOrArn);
  }

  /** Authorised on the secret's tags (none when it does not exist), then looked up. */
  private existing(action: string, secretId: string): StoredSecret {
    const secret = this.find(secretId);
    const context: Context = {};
    for (const [key, value] of Object.entries(secret?.tags ?? {})) {
      context[`secretsmanager:ResourceTag/${key}`] = value;
      context[`aws:ResourceTag/${key}`] = value;
    }
    this.authorize(action, secret?.arn ?? this.arnOf(secretId), context);
    if (!secret) {
      throw new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
    }
    return secret;
  }

  private authorize(action: string, resource: string, context: Context): void {
    if (allows(this.statements, action, resource, context)) return;
    this.refusals.push(`${action} ${resource}`);
    // The wording of an implicit deny: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    throw new SecretsManagerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message:
        `User: arn:aws:sts::${ACCOUNT_ID}:assumed-role/provisioning-step/fn is not authorized to perform: ` +
        `${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    });
  }
}
