import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` base32 characters of `bytes`: 5 bits each, so 20 characters are 100 bits. */
function base32Of(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/** `length` base32 characters from a CSPRNG. */
const randomBase32 = (length: number) => base32Of(randomBytes(Math.ceil((length * 5) / 8)), length);

/**
 * 256 bits derived from an idempotency token (shared/ports/idempotency.ts) for one kind of
 * object: a random token gives an unguessable id, and every attempt of the request the same one.
 */
const digestOf = (kind: string, token: string) => createHash('sha256').update(`${kind}:${token}`).digest();

/** Opaque, unguessable tenant id (not sequential, not derived from the name). */
export const newTenantId = () => `t_${randomBase32(20)}`;
export const newRoleId = () => `r_${randomBase32(16)}`;
export const newDatabaseId = () => `d_${randomBase32(16)}`;
export const newInvitationId = () => `i_${randomBase32(20)}`;
export const newBackupId = () => `b_${randomBase32(16)}`;
/** A move of a tenant's databases to another cluster or isolation (`m_` + 16). */
export const newMoveId = () => `m_${randomBase32(16)}`;

/** The id of the custom role a request creates under an idempotency token. */
export const derivedRoleId = (token: string) => `r_${base32Of(digestOf('role', token), 16)}`;
/** The id of the database a request creates under an idempotency token. */
export const derivedDatabaseId = (token: string) => `d_${base32Of(digestOf('database', token), 16)}`;
/** The id of the module upgrade a request starts under an idempotency token (`u_` + 16). */
export const derivedUpgradeId = (token: string) => `u_${base32Of(digestOf('upgrade', token), 16)}`;
/** The id of the backup a request starts under an idempotency token (`b_` + 16). */
export const derivedBackupId = (token: string) => `b_${base32Of(digestOf('backup', token), 16)}`;
/** The id of the move a request starts under an idempotency token (`m_` + 16). */
export const derivedMoveId = (token: string) => `m_${base32Of(digestOf('move', token), 16)}`;

/** A UUID (RFC 9562 version 8: custom) for the row a request inserts under an idempotency token. */
export function derivedRowId(token: string): string {
  const bytes = digestOf('row', token).subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const TENANT_ID_PATTERN = /^t_[a-z2-7]{20}$/;
export const ROLE_ID_PATTERN = /^r_[a-z2-7]{16}$/;
export const DATABASE_ID_PATTERN = /^d_[a-z2-7]{16}$/;
export const BACKUP_ID_PATTERN = /^b_[a-z2-7]{16}$/;
export const MOVE_ID_PATTERN = /^m_[a-z2-7]{16}$/;
export const INVITATION_ID_PATTERN = /^i_[a-z2-7]{20}$/;
