// Session ids and API tokens: random secrets, stored only as SHA-256 hashes.
// An API token names its tenant (tf_<tenant>_<secret>) so it can be checked
// inside that tenant's RLS context; the tenant is trusted only once the hash
// matches there.
import { createHash, randomBytes } from 'node:crypto';

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Invite links expire after a week. */
export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

const hex = (tenantId: string) => tenantId.replace(/-/g, '');
const uuidOf = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;

/** `{prefix}_<tenant hex>_<secret>` → the tenant it names (trusted only once its hash matches there). */
function tenantOfSecret(prefix: 'tf' | 'inv' | 'pk', token: string): { tenantId: string } | undefined {
  const m = new RegExp(`^${prefix}_([0-9a-f]{32})_[A-Za-z0-9_-]{43}$`).exec(token);
  return m?.[1] ? { tenantId: uuidOf(m[1]) } : undefined;
}

export function formatApiToken(tenantId: string, secret: string): string {
  return `tf_${hex(tenantId)}_${secret}`;
}

export function parseApiToken(token: string): { tenantId: string } | undefined {
  return tenantOfSecret('tf', token);
}

/** An invite link's token names its tenant the same way. */
export function newInviteToken(tenantId: string): string {
  return `inv_${hex(tenantId)}_${newSecret()}`;
}

export function parseInviteToken(token: string): { tenantId: string } | undefined {
  return tenantOfSecret('inv', token);
}

/**
 * A publishable key (docs/analytics.md, "Website events") names its tenant the
 * same way: public by design, it is still looked up by its hash, inside the
 * tenant it names.
 */
export function newPublishableKey(tenantId: string): string {
  return `pk_${hex(tenantId)}_${newSecret()}`;
}

export function parsePublishableKey(key: string): { tenantId: string } | undefined {
  return tenantOfSecret('pk', key);
}
