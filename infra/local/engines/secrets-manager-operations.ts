/**
 * The Secrets Manager operations the stand-in serves, each as AWS documents it in the API
 * reference (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_<Operation>.html).
 * Order inside an operation: the request's shape (ValidationException), the IAM question
 * (AccessDeniedException), then the service's own checks (InvalidParameter/InvalidRequest/
 * ResourceNotFound/ResourceExists).
 */
import { randomUUID } from 'node:crypto';
import {
  type Context,
  demand,
  type OperationContext,
  requestTagContext,
  targetOf,
} from './secrets-manager-access.ts';
import { describe, epochSeconds, listSecrets } from './secrets-manager-list.ts';
import type { SecretTag, StoredSecret, StoredVersion } from './secrets-manager-state.ts';
import {
  asObject,
  INVALID_NAME_MESSAGE,
  invalidParameter,
  invalidRequest,
  type JsonObject,
  MARKED_FOR_DELETION_MESSAGE,
  notFound,
  optionalBoolean,
  optionalInteger,
  optionalList,
  optionalString,
  optionalStringList,
  requiredList,
  requiredString,
  SECRET_NAME,
  ServiceError,
} from './secrets-manager-wire.ts';

export type Operation = (ctx: OperationContext, input: JsonObject) => Promise<JsonObject>;

const DAY_MS = 86_400_000;
const SECRET_ID = { min: 1, max: 2048 } as const;
const TOKEN = { min: 32, max: 64 } as const;
const SECRET_STRING = { min: 1, max: 65_536, sensitive: true } as const;

/** CreateSecret: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html */
const createSecret: Operation = async (ctx, input) => {
  const name = requiredString(input, 'Name', { min: 1, max: 512 });
  if (!SECRET_NAME.test(name)) throw new ServiceError('ValidationException', INVALID_NAME_MESSAGE);
  const token = optionalString(input, 'ClientRequestToken', TOKEN);
  const description = optionalString(input, 'Description', { max: 2048 });
  const kmsKeyId = optionalString(input, 'KmsKeyId', { max: 2048 });
  const value = optionalString(input, 'SecretString', SECRET_STRING);
  const tags = tagList(input, 'Tags');
  refuseUnsupported(input, ['SecretBinary', 'AddReplicaRegions']);

  const existing = ctx.state.find(name);
  const target =
    existing === undefined
      ? { ...targetOf(ctx, name), resource: ctx.state.newArn(name) }
      : targetOf(ctx, name);
  const context: Context = {
    'secretsmanager:Name': name,
    ...(description === undefined ? {} : { 'secretsmanager:Description': description }),
    ...(kmsKeyId === undefined ? {} : { 'secretsmanager:KmsKeyId': kmsKeyId }),
    ...requestTagContext(tags),
  };
  await demand(ctx, 'CreateSecret', target, context);
  // "If you include tags in the secret, you also need secretsmanager:TagResource."
  if (tags.length > 0) await demand(ctx, 'TagResource', target, context);

  if (existing !== undefined) return createAgain(existing, token, value);
  const now = ctx.now().getTime();
  const secret: StoredSecret = {
    arn: target.resource,
    name,
    ...(description === undefined ? {} : { description }),
    ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
    tags,
    createdAt: now,
    lastChangedAt: now,
    versions: value === undefined ? [] : [newVersion(token, value, now, ['AWSCURRENT'])],
  };
  await ctx.state.add(secret);
  return { ARN: secret.arn, Name: name, ...versionIdOf(secret.versions[0]) };
};

/**
 * CreateSecret for a name that is taken. A retry with the same ClientRequestToken and the same
 * value "is ignored" (success, same ARN); a different value under that token, or another token,
 * is refused. A name in its recovery window stays reserved: InvalidRequestException with AWS's
 * wording (recorded against AWS in LocalStack's snapshot `test_exp_raised_on_creation_of_secret_scheduled_for_deletion`).
 */
function createAgain(
  existing: StoredSecret,
  token: string | undefined,
  value: string | undefined,
): JsonObject {
  if (existing.deletionDate !== undefined) {
    throw invalidRequest(
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    );
  }
  const version = token === undefined ? undefined : existing.versions.find((v) => v.versionId === token);
  if (version === undefined) {
    // AWS's wording, e.g. "ResourceExistsException: The operation failed because the secret
    // tap-stack-rds-credentials already exists." (Terraform log of a real CreateSecret call).
    throw new ServiceError(
      'ResourceExistsException',
      `The operation failed because the secret ${existing.name} already exists.`,
    );
  }
  if (version.secretString !== value) throw versionConflict();
  return { ARN: existing.arn, Name: existing.name, VersionId: version.versionId };
}

/** GetSecretValue: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html */
const getSecretValue: Operation = async (ctx, input) => {
  const secretId = requiredString(input, 'SecretId', SECRET_ID);
  const versionId = optionalString(input, 'VersionId', TOKEN);
  const versionStage = optionalString(input, 'VersionStage', { min: 1, max: 256 });
  const target = targetOf(ctx, secretId);
  await demand(ctx, 'GetSecretValue', target, {
    ...(versionId === undefined ? {} : { 'secretsmanager:VersionId': versionId }),
    ...(versionStage === undefined ? {} : { 'secretsmanager:VersionStage': versionStage }),
  });
  const secret = usable(target.secret);
  const version = pickVersion(secret, versionId, versionStage);
  const now = ctx.now();
  // Kept in memory and written with the next change: a read does not rewrite the file.
  secret.lastAccessedAt = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdAt),
  };
};

function pickVersion(
  secret: StoredSecret,
  versionId: string | undefined,
  stage: string | undefined,
): StoredVersion {
  if (versionId !== undefined) {
    const version = secret.versions.find((v) => v.versionId === versionId);
    if (version === undefined) {
      throw new ServiceError(
        'ResourceNotFoundException',
        `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
      );
    }
    if (stage !== undefined && !version.stages.includes(stage)) {
      throw invalidRequest('You provided a VersionStage that is not associated to the provided VersionId.');
    }
    return version;
  }
  const label = stage ?? 'AWSCURRENT';
  const version = secret.versions.find((v) => v.stages.includes(label));
  if (version === undefined) {
    throw new ServiceError(
      'ResourceNotFoundException',
      `Secrets Manager can't find the specified secret value for staging label: ${label}`,
    );
  }
  return version;
}

/** PutSecretValue: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html */
const putSecretValue: Operation = async (ctx, input) => {
  const secretId = requiredString(input, 'SecretId', SECRET_ID);
  const token = optionalString(input, 'ClientRequestToken', TOKEN) ?? randomUUID();
  const value = optionalString(input, 'SecretString', SECRET_STRING);
  const stages = optionalStringList(input, 'VersionStages', 20, { min: 1, max: 256 });
  refuseUnsupported(input, ['SecretBinary', 'RotationToken']);
  const target = targetOf(ctx, secretId);
  await demand(ctx, 'PutSecretValue', target);
  const secret = usable(target.secret);
  if (value === undefined) throw invalidRequest('You must provide either SecretString or SecretBinary.');

  const existing = secret.versions.find((v) => v.versionId === token);
  if (existing !== undefined) {
    // "If you call this operation with a ClientRequestToken that matches an existing version's
    // VersionId, and you specify the same secret data, the operation succeeds but does nothing."
    if (existing.secretString !== value) throw versionConflict();
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: existing.versionId,
      VersionStages: [...existing.stages],
    };
  }
  const now = ctx.now().getTime();
  const version = newVersion(token, value, now, stages ?? ['AWSCURRENT']);
  moveStages(secret, version);
  secret.versions.push(version);
  secret.lastChangedAt = now;
  await ctx.state.save();
  return {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    VersionStages: [...version.stages],
  };
};

/** A label moves to the new version; when AWSCURRENT moves, the version it left becomes AWSPREVIOUS. */
function moveStages(secret: StoredSecret, incoming: StoredVersion): void {
  for (const version of secret.versions) {
    const hadCurrent = version.stages.includes('AWSCURRENT');
    version.stages = version.stages.filter((stage) => !incoming.stages.includes(stage));
    if (hadCurrent && incoming.stages.includes('AWSCURRENT')) {
      for (const other of secret.versions)
        other.stages = other.stages.filter((stage) => stage !== 'AWSPREVIOUS');
      version.stages.push('AWSPREVIOUS');
    }
  }
}

/** DescribeSecret: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DescribeSecret.html
 * (answers for a secret in its recovery window too: that is how a caller sees its DeletedDate). */
const describeSecret: Operation = async (ctx, input) => {
  const target = targetOf(ctx, requiredString(input, 'SecretId', SECRET_ID));
  await demand(ctx, 'DescribeSecret', target);
  if (target.secret === undefined) throw notFound();
  const { SecretVersionsToStages, ...details } = describe(target.secret);
  return {
    ...details,
    ...(SecretVersionsToStages === undefined ? {} : { VersionIdsToStages: SecretVersionsToStages }),
  };
};

/** TagResource: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_TagResource.html */
const tagResource: Operation = async (ctx, input) => {
  const target = targetOf(ctx, requiredString(input, 'SecretId', SECRET_ID));
  const tags = tagList(input, 'Tags', true);
  await demand(ctx, 'TagResource', target, requestTagContext(tags));
  const secret = usable(target.secret);
  for (const tag of tags) {
    const index = secret.tags.findIndex((old) => old.Key === tag.Key);
    if (index === -1) secret.tags.push(tag);
    else secret.tags[index] = tag;
  }
  secret.lastChangedAt = ctx.now().getTime();
  await ctx.state.save();
  return {};
};

/** UntagResource: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UntagResource.html */
const untagResource: Operation = async (ctx, input) => {
  const target = targetOf(ctx, requiredString(input, 'SecretId', SECRET_ID));
  const keys = optionalStringList(input, 'TagKeys', 50, { min: 1, max: 128 });
  if (keys === undefined) requiredList(input, 'TagKeys', 50);
  const removed = keys ?? [];
  await demand(ctx, 'UntagResource', target, removed.length === 0 ? {} : { 'aws:TagKeys': removed });
  const secret = usable(target.secret);
  secret.tags = secret.tags.filter((tag) => !removed.includes(tag.Key));
  secret.lastChangedAt = ctx.now().getTime();
  await ctx.state.save();
  return {};
};

/**
 * DeleteSecret: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html
 * A recovery window of 7–30 days (default 30) schedules the deletion; ForceDeleteWithoutRecovery
 * deletes at once, and "If you forcibly delete an already deleted or nonexistent secret, the
 * operation does not return ResourceNotFoundException"; both together are refused
 * (InvalidParameterException). Messages as AWS's CLI prints them, copied by moto
 * ("An error occurred (InvalidParameterException) when calling the DeleteSecret operation: …").
 */
const deleteSecret: Operation = async (ctx, input) => {
  const secretId = requiredString(input, 'SecretId', SECRET_ID);
  const window = optionalInteger(input, 'RecoveryWindowInDays');
  const force = optionalBoolean(input, 'ForceDeleteWithoutRecovery');
  const target = targetOf(ctx, secretId);
  await demand(ctx, 'DeleteSecret', target, {
    ...(window === undefined ? {} : { 'secretsmanager:RecoveryWindowInDays': String(window) }),
    ...(force === undefined ? {} : { 'secretsmanager:ForceDeleteWithoutRecovery': String(force) }),
  });
  if (force === true && window !== undefined) {
    throw invalidParameter(
      "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
    );
  }
  if (window !== undefined && (window < 7 || window > 30)) {
    throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  }
  const now = ctx.now().getTime();
  const secret = target.secret;
  if (force === true) {
    if (secret !== undefined) await ctx.state.remove(secret);
    const name = secret?.name ?? secretId.slice(secretId.startsWith('arn:') ? ctx.state.arnPrefix.length : 0);
    return { ARN: target.resource, Name: name, DeletionDate: epochSeconds(now) };
  }
  if (secret === undefined) throw notFound();
  if (secret.deletionDate !== undefined) {
    throw invalidRequest("You tried to perform the operation on a secret that's currently marked deleted.");
  }
  secret.deletionDate = now + (window ?? 30) * DAY_MS;
  await ctx.state.save();
  return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.deletionDate) };
};

/** RestoreSecret: https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RestoreSecret.html */
const restoreSecret: Operation = async (ctx, input) => {
  const target = targetOf(ctx, requiredString(input, 'SecretId', SECRET_ID));
  await demand(ctx, 'RestoreSecret', target);
  const secret = target.secret;
  if (secret === undefined) throw notFound();
  if (secret.deletionDate !== undefined) {
    delete secret.deletionDate;
    secret.lastChangedAt = ctx.now().getTime();
    await ctx.state.save();
  }
  return { ARN: secret.arn, Name: secret.name };
};

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateSecret: createSecret,
  DeleteSecret: deleteSecret,
  DescribeSecret: describeSecret,
  GetSecretValue: getSecretValue,
  ListSecrets: listSecrets,
  PutSecretValue: putSecretValue,
  RestoreSecret: restoreSecret,
  TagResource: tagResource,
  UntagResource: untagResource,
};

/** A secret that exists and is not in its recovery window, or the error AWS gives. */
function usable(secret: StoredSecret | undefined): StoredSecret {
  if (secret === undefined) throw notFound();
  if (secret.deletionDate !== undefined) throw invalidRequest(MARKED_FOR_DELETION_MESSAGE);
  return secret;
}

/** Tags as the Tag shape allows them: key 1–128, value 0–256 characters.
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Tag.html */
function tagList(input: JsonObject, key: string, required = false): SecretTag[] {
  const list = required ? requiredList(input, key, 50) : (optionalList(input, key, 50) ?? []);
  return list.map((item, i) => {
    const tag = asObject(item, `${key}[${i}]`);
    return {
      Key: requiredString(tag, 'Key', { min: 1, max: 128 }),
      Value: optionalString(tag, 'Value', { max: 256 }) ?? '',
    };
  });
}

function refuseUnsupported(input: JsonObject, members: readonly string[]): void {
  for (const member of members) {
    if (input[member] !== undefined && input[member] !== null) {
      throw invalidParameter(`${member} is not supported by the local Secrets Manager stand-in`);
    }
  }
}

function newVersion(token: string | undefined, value: string, now: number, stages: string[]): StoredVersion {
  return { versionId: token ?? randomUUID(), secretString: value, createdAt: now, stages };
}

function versionIdOf(version: StoredVersion | undefined): JsonObject {
  return version === undefined ? {} : { VersionId: version.versionId };
}

/** Documented: the request "fails because you can't modify a secret version" (the code is one
 * PutSecretValue and CreateSecret declare; the wording is ours, AWS does not document it). */
function versionConflict(): ServiceError {
  return new ServiceError(
    'ResourceExistsException',
    "You can't modify an existing version, you can only create a new version.",
  );
}
