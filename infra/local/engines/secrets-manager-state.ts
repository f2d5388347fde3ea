/**
 * What the Secrets Manager stand-in keeps: every secret (active or in its recovery window) with
 * its versions, in one JSON file under the data folder (mode 0600, replaced atomically), read at
 * start and written after every change, so a restarted stand-in answers as before.
 */
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { readFileIfPresent, writePrivateFileAtomically } from './state-files.ts';

export interface SecretTag {
  readonly Key: string;
  readonly Value: string;
}

export interface StoredVersion {
  readonly versionId: string;
  readonly secretString: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  stages: string[];
}

export interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  description?: string;
  kmsKeyId?: string;
  /** In the order they were first added, as DescribeSecret lists them. */
  tags: SecretTag[];
  readonly createdAt: number;
  lastChangedAt: number;
  /** Midnight (UTC) of the last GetSecretValue, as AWS reports it: date only. */
  lastAccessedAt?: number;
  /** Set while the secret is in its recovery window: the moment it is purged. */
  deletionDate?: number;
  versions: StoredVersion[];
}

interface StateFile {
  readonly version: 1;
  readonly secrets: StoredSecret[];
}

const STATE_FILE = 'secrets-manager.json';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** "if your secret name ends with a hyphen followed by six characters … Secrets Manager assumes
 * you are specifying a complete ARN" (partial-ARN rule):
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen */
const LOOKS_SUFFIXED = /-[A-Za-z0-9]{6}$/;

export class SecretsState {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    /** `arn:aws:secretsmanager:<region>:<account>:secret:` */
    readonly arnPrefix: string,
    private readonly now: () => Date,
    private secrets: StoredSecret[],
  ) {}

  static async open(options: {
    dataDir: string;
    region: string;
    accountId: string;
    now: () => Date;
  }): Promise<SecretsState> {
    const file = path.join(path.resolve(options.dataDir), STATE_FILE);
    const text = await readFileIfPresent(file);
    const secrets = text === undefined ? [] : (JSON.parse(text) as StateFile).secrets;
    const prefix = `arn:aws:secretsmanager:${options.region}:${options.accountId}:secret:`;
    return new SecretsState(file, prefix, options.now, secrets);
  }

  /** Runs operations one at a time, so a read-modify-write never interleaves with another. */
  exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      await this.purgeExpired();
      return operation();
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Every secret, those in their recovery window included. */
  all(): readonly StoredSecret[] {
    return this.secrets;
  }

  /**
   * The secret a `SecretId` names: a full ARN, a partial ARN (the ARN without the "-" and six
   * random characters) or the name. A name is matched exactly: with the suffix appended it is not
   * found. https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html#SecretsManager-GetSecretValue-request-SecretId
   */
  find(secretId: string): StoredSecret | undefined {
    if (!secretId.startsWith('arn:')) return this.secrets.find((secret) => secret.name === secretId);
    if (!secretId.startsWith(this.arnPrefix)) return undefined; // another account, Region or service
    const exact = this.secrets.find((secret) => secret.arn === secretId);
    if (exact !== undefined || LOOKS_SUFFIXED.test(secretId)) return exact;
    const name = secretId.slice(this.arnPrefix.length);
    return this.secrets.find((secret) => secret.name === name);
  }

  /** The ARN a request names when no secret answers to it, for the IAM question and messages. */
  requestedArn(secretId: string): string {
    return secretId.startsWith('arn:') ? secretId : `${this.arnPrefix}${secretId}`;
  }

  /** A fresh ARN: the name, "-" and six random characters, so a re-created name gets a new ARN.
   * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#API_CreateSecret_ResponseSyntax */
  newArn(name: string): string {
    let suffix = '';
    for (let i = 0; i < 6; i += 1) suffix += SUFFIX_ALPHABET.charAt(randomInt(SUFFIX_ALPHABET.length));
    return `${this.arnPrefix}${name}-${suffix}`;
  }

  add(secret: StoredSecret): Promise<void> {
    this.secrets.push(secret);
    return this.save();
  }

  remove(secret: StoredSecret): Promise<void> {
    this.secrets = this.secrets.filter((candidate) => candidate !== secret);
    return this.save();
  }

  save(): Promise<void> {
    const data: StateFile = { version: 1, secrets: this.secrets };
    return writePrivateFileAtomically(this.file, `${JSON.stringify(data, null, 2)}\n`);
  }

  /** At the end of the recovery window the secret is gone for good (AWS does it in the background). */
  private async purgeExpired(): Promise<void> {
    const now = this.now().getTime();
    const kept = this.secrets.filter(
      (secret) => secret.deletionDate === undefined || secret.deletionDate > now,
    );
    if (kept.length === this.secrets.length) return;
    this.secrets = kept;
    await this.save();
  }
}

export function tagsRecord(tags: readonly SecretTag[]): Record<string, string> {
  return Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
}

export function currentVersion(secret: StoredSecret): StoredVersion | undefined {
  return secret.versions.find((version) => version.stages.includes('AWSCURRENT'));
}
