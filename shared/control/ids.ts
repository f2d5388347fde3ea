import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` base32 characters from a CSPRNG: 5 bits each, so 20 characters are 100 bits. */
function randomBase32(length: number): string {
  const bytes = randomBytes(Math.ceil((length * 5) / 8));
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

/** Opaque, unguessable tenant id (not sequential, not derived from the name). */
export const newTenantId = () => `t_${randomBase32(20)}`;
export const newRoleId = () => `r_${randomBase32(16)}`;
export const newDatabaseId = () => `d_${randomBase32(16)}`;
export const newInvitationId = () => `i_${randomBase32(20)}`;

export const TENANT_ID_PATTERN = /^t_[a-z2-7]{20}$/;
export const ROLE_ID_PATTERN = /^r_[a-z2-7]{16}$/;
export const DATABASE_ID_PATTERN = /^d_[a-z2-7]{16}$/;
export const INVITATION_ID_PATTERN = /^i_[a-z2-7]{20}$/;
