// Publishable keys (docs/analytics.md, "Website events"): what a tenant's
// website embeds to send CTA events. Each belongs to one customer and lists
// the origins allowed to use it; the key is shown once, listed by a hint,
// revocable. Managed with tokens.manage; a caller restricted to one customer
// sees and revokes only that customer's keys (anything else answers 404).
import { type DataSource } from 'typeorm';
import { customerExists } from '../../db/customers';
import { isId, newId } from '../../db/ids';
import {
  findLiveKeyByHash,
  findPublishableKey,
  insertPublishableKey,
  listPublishableKeys,
  markPublishableKeyRevoked,
  type PublishableKeyRow,
} from '../../db/publishableKeys';
import { withTenant } from '../../db/tenantContext';
import { ApiError, notFound } from '../../lib/errors';
import { newPublishableKey, parsePublishableKey, sha256 } from '../../lib/secrets';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';

function keyJson(k: PublishableKeyRow) {
  return {
    id: k.id,
    name: k.name,
    customerId: k.customer_id,
    hint: k.hint,
    allowedOrigins: k.allowed_origins,
    createdBy: k.created_by,
    createdAt: k.created_at,
    revokedAt: k.revoked_at,
  };
}

const invalidCustomer = () =>
  new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'customerId', message: 'no such customer in this tenant', code: 'custom' }]);

export async function listKeys(a: TenantAccess) {
  return { data: (await listPublishableKeys(a.manager, a.restrictedCustomerId)).map(keyJson) };
}

export async function createKey(a: TenantAccess, input: { name: string; customerId: string; allowedOrigins: string[] }) {
  if (a.restrictedCustomerId && input.customerId !== a.restrictedCustomerId) throw invalidCustomer();
  if (!(await customerExists(a.manager, input.customerId))) throw invalidCustomer();
  const key = newPublishableKey(a.tenantId);
  const saved = await insertPublishableKey(a.manager, {
    id: newId('pkey'),
    customerId: input.customerId,
    name: input.name,
    keyHash: sha256(key),
    hint: `pk_…${key.slice(-6)}`,
    allowedOrigins: [...new Set(input.allowedOrigins)],
    createdBy: a.userId,
  });
  await auditBy(a, {
    action: 'publishable_key_created',
    outcome: 'success',
    targetType: 'publishable_key',
    targetId: saved.id,
    details: { customerId: saved.customer_id, allowedOrigins: saved.allowed_origins },
  });
  return { ...keyJson(saved), key };
}

export async function revokeKey(a: TenantAccess, id: string): Promise<void> {
  const k = isId('pkey', id) ? await findPublishableKey(a.manager, id, a.restrictedCustomerId) : undefined;
  if (!k) throw notFound('publishable key');
  if (k.revoked_at) return;
  await markPublishableKeyRevoked(a.manager, id);
  await auditBy(a, { action: 'publishable_key_revoked', outcome: 'success', targetType: 'publishable_key', targetId: id });
}

/** A live key as a website's request presents it: its tenant, id, customer and allowed origins. */
export interface LiveKey {
  tenantId: string;
  keyId: string;
  customerId: string;
  allowedOrigins: string[];
}

export const invalidKey = () => new ApiError(401, 'invalid_publishable_key', 'invalid or revoked publishable key');

/**
 * The live key `key` names, looked up by its hash inside the tenant it names
 * (so a made-up tenant finds nothing); undefined for a malformed, unknown or
 * revoked key.
 */
export async function liveKey(dataSource: DataSource, key: string): Promise<LiveKey | undefined> {
  const parsed = parsePublishableKey(key);
  if (!parsed) return undefined;
  const row = await withTenant(dataSource, parsed.tenantId, (m) => findLiveKeyByHash(m, sha256(key)));
  return row ? { tenantId: parsed.tenantId, keyId: row.id, customerId: row.customer_id, allowedOrigins: row.allowed_origins } : undefined;
}
