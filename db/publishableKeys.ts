// Publishable keys of a tenant (docs/analytics.md, "Website events"): each
// bound to one customer and a list of allowed origins, stored as the SHA-256
// hash of the key, revocable. Runs in the tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';

export interface PublishableKeyRow {
  id: string;
  customer_id: string;
  name: string;
  hint: string;
  allowed_origins: string[];
  created_by: string | null;
  created_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, customer_id, name, hint, allowed_origins, created_by, created_at, revoked_at';

/** The live key with this hash: what a website's request is checked against. */
export async function findLiveKeyByHash(
  m: EntityManager,
  keyHash: string,
): Promise<{ id: string; customer_id: string; allowed_origins: string[] } | undefined> {
  const rows = (await m.query('SELECT id, customer_id, allowed_origins FROM publishable_keys WHERE key_hash = $1 AND revoked_at IS NULL', [keyHash])) as {
    id: string;
    customer_id: string;
    allowed_origins: string[];
  }[];
  return rows[0];
}

export async function insertPublishableKey(
  m: EntityManager,
  k: { id: string; customerId: string; name: string; keyHash: string; hint: string; allowedOrigins: string[]; createdBy: string | null },
): Promise<PublishableKeyRow> {
  const rows = (await m.query(
    `INSERT INTO publishable_keys (tenant_id, id, customer_id, name, key_hash, hint, allowed_origins, created_by)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6::text[], $7)
     RETURNING ${COLUMNS}`,
    [k.id, k.customerId, k.name, k.keyHash, k.hint, k.allowedOrigins, k.createdBy],
  )) as PublishableKeyRow[];
  return rows[0]!;
}

/** The tenant's keys (one customer's, when `customerId` is given), oldest first. */
export async function listPublishableKeys(m: EntityManager, customerId: string | null): Promise<PublishableKeyRow[]> {
  return (await m.query(`SELECT ${COLUMNS} FROM publishable_keys WHERE ($1::text IS NULL OR customer_id = $1) ORDER BY id`, [
    customerId,
  ])) as PublishableKeyRow[];
}

export async function findPublishableKey(m: EntityManager, id: string, customerId: string | null): Promise<PublishableKeyRow | undefined> {
  const rows = (await m.query(`SELECT ${COLUMNS} FROM publishable_keys WHERE id = $1 AND ($2::text IS NULL OR customer_id = $2)`, [
    id,
    customerId,
  ])) as PublishableKeyRow[];
  return rows[0];
}

export async function markPublishableKeyRevoked(m: EntityManager, id: string): Promise<void> {
  await m.query('UPDATE publishable_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
}
