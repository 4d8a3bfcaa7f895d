// Idempotency-Key (spec §4). A key is scoped to tenant + principal + customer:
// another caller (or the same member working in another customer) who sends
// the same key starts afresh and never sees the first caller's response. The
// key row is inserted in the request's own transaction, so a concurrent
// duplicate waits on the unique key and then sees the finished first response;
// a request that fails rolls its key back and can be retried. Same key + same
// request → the first response again; same key + a different request → 409.
// Records expire after 24 hours (as Stripe's do). A response that reveals a
// secret once (an API token) is stored without it, and its replay is a 409
// naming what was created, so the secret is never shown twice.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { access } from '../access';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const IDEMPOTENCY_TTL_HOURS = 24;

function requestHash(ctx: Koa.ParameterizedContext<AppState>): string {
  return createHash('sha256')
    .update(`${ctx.method} ${ctx.path}\n${JSON.stringify(ctx.state.body ?? null)}`)
    .digest('hex');
}

/** Who the key belongs to: the principal and the customer it works in. */
function keyScope(ctx: Koa.ParameterizedContext<AppState>): string {
  const a = access(ctx);
  const principal = a.tokenId ? `tok:${a.tokenId}` : `usr:${a.userId ?? ''}`;
  const customer = ctx.get('x-customer-id').trim() || a.restrictedCustomerId || '';
  return `${principal}|${customer}`;
}

function withoutSecrets(body: unknown, fields: string[]): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const f of fields) delete copy[f];
  return copy;
}

export function idempotency() {
  return async function idempotency(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const key = ctx.get('idempotency-key');
    if (!key || !MUTATING.has(ctx.method)) return next();
    if (key.length > 200) throw new ApiError(400, 'validation_failed', 'Idempotency-Key is longer than 200 characters');
    const { manager } = access(ctx);
    const scope = keyScope(ctx);
    const hash = requestHash(ctx);
    // One statement claims the key: a new row, or an expired one taken over.
    const inserted = (await manager.query(
      `INSERT INTO idempotency_keys (tenant_id, scope, key, request_hash) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3)
       ON CONFLICT (tenant_id, scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = NULL, response = NULL, secret_withheld = false, created_at = now()
         WHERE idempotency_keys.created_at < now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'
       RETURNING key`,
      [scope, key, hash],
    )) as unknown[];
    if (inserted.length === 0) {
      const [prior] = (await manager.query('SELECT request_hash, status, response, secret_withheld FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key])) as {
        request_hash: string;
        status: number | null;
        response: unknown;
        secret_withheld: boolean;
      }[];
      if (!prior || prior.request_hash !== hash) {
        throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
      }
      if (prior.secret_withheld) {
        const id = (prior.response as { id?: unknown } | null)?.id;
        throw new ApiError(409, 'secret_already_shown', 'the first request with this Idempotency-Key succeeded; its secret is shown once only — revoke it and issue another if it was lost', {
          ...(typeof id === 'string' ? { id } : {}),
        });
      }
      ctx.status = prior.status ?? 200;
      ctx.body = prior.response ?? undefined;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    await next();
    const secrets = ctx.state.secretFields ?? [];
    const stored = secrets.length ? withoutSecrets(ctx.body, secrets) : ctx.body;
    await manager.query('UPDATE idempotency_keys SET status = $3, response = $4, secret_withheld = $5 WHERE scope = $1 AND key = $2', [
      scope,
      key,
      ctx.status,
      JSON.stringify(stored ?? null),
      secrets.length > 0,
    ]);
  };
}
