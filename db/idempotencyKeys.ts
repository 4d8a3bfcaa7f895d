// Idempotency-Key records, one per tenant + scope + key, written in the
// request's own tenant transaction. Records expire after 24 hours (as Stripe's
// do): an expired key is taken over by the next request that sends it.
import { type EntityManager } from 'typeorm';

export const IDEMPOTENCY_TTL_HOURS = 24;

export interface PriorResponse {
  request_hash: string;
  status: number | null;
  response: unknown;
  secret_withheld: boolean;
}

/** Claims the key (a new row, or an expired one taken over) in one statement; false when it is held. */
export async function claimIdempotencyKey(m: EntityManager, scope: string, key: string, requestHash: string): Promise<boolean> {
  const inserted = (await m.query(
    `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3)
     ON CONFLICT (tenant_id, scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL, secret_withheld = false, created_at = now()
       WHERE idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'
     RETURNING key`,
    [scope, key, requestHash],
  )) as unknown[];
  return inserted.length === 1;
}

/** What the first request with this key answered (after it committed: a concurrent one waits on the unique key). */
export async function priorIdempotentResponse(m: EntityManager, scope: string, key: string): Promise<PriorResponse | undefined> {
  const [prior] = (await m.query('SELECT request_hash, status, response, secret_withheld FROM idempotency_keys WHERE scope = $1 AND key = $2', [
    scope,
    key,
  ])) as PriorResponse[];
  return prior;
}

export async function storeIdempotentResponse(
  m: EntityManager,
  scope: string,
  key: string,
  status: number,
  response: unknown,
  secretWithheld: boolean,
): Promise<void> {
  await m.query('UPDATE idempotency_keys SET status = $3, response = $4, secret_withheld = $5 WHERE scope = $1 AND key = $2', [
    scope,
    key,
    status,
    JSON.stringify(response ?? null),
    secretWithheld,
  ]);
}
