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

export function formatApiToken(tenantId: string, secret: string): string {
  return `tf_${tenantId.replace(/-/g, '')}_${secret}`;
}

export function parseApiToken(token: string): { tenantId: string } | undefined {
  const m = /^tf_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m?.[1]) return undefined;
  const h = m[1];
  return { tenantId: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}
