// Identifiers. Tenants are UUIDv7 (time-ordered, so tenant-leading keys stay
// append-friendly in B-trees); everything else is a prefixed, sortable id like
// `cust_01jd…` (48-bit millisecond time + 80 random bits, Crockford base32).
import { randomBytes } from 'node:crypto';
import { v7 } from 'uuid';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

export const ID_PREFIXES = [
  'usr',
  'mem',
  'cust',
  'inb',
  'cmp',
  'seq',
  'lead',
  'enr',
  'msg',
  'role',
  'tok',
  'aud',
  'inv',
  'stp',
  'evt',
  'whk',
  'cinv',
  'cred',
  'conv',
  'att',
  'aev',
  'pkey',
  'exp',
  'auto',
  'arun',
  'ntf',
] as const;
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

/** RFC 9562 UUID version 7 (the `uuid` package's). */
export function uuidv7(now = Date.now()): string {
  return v7({ msecs: now });
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
