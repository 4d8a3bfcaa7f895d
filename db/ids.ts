// Identifiers. Tenants are UUIDv7 (time-ordered, so tenant-leading keys stay
// append-friendly in B-trees); everything else is a prefixed, sortable id like
// `cust_01jd…` (48-bit millisecond time + 80 random bits, Crockford base32).
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

export const ID_PREFIXES = ['usr', 'mem', 'cust', 'inb', 'cmp', 'seq', 'lead', 'enr', 'msg', 'role', 'tok', 'aud', 'inv', 'stp', 'evt', 'whk'] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

function encodeBase32(bytes: Uint8Array, length: number): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out.slice(0, length);
}

/** 26 base32 characters: 10 for the timestamp, 16 random. */
function sortableSuffix(now: number): string {
  const bytes = new Uint8Array(16);
  const time = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((time >> BigInt(8 * (5 - i))) & 0xffn);
  bytes.set(randomBytes(10), 6);
  return encodeBase32(bytes, 26);
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${sortableSuffix(now)}`;
}

export function isId(prefix: IdPrefix, value: string): boolean {
  return new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`).test(value);
}

/** RFC 9562 UUID version 7. */
export function uuidv7(now = Date.now()): string {
  const bytes = randomBytes(16);
  const time = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((time >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
