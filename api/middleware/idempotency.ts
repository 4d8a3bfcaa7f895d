// Idempotency-Key (spec §4), per tenant. The key row is inserted in the
// request's own transaction, so a concurrent duplicate waits on the unique
// key and then sees the finished first response; a request that fails rolls
// its key back and can be retried. Same key + same request → the first
// response again; same key + a different request → 409.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { access } from '../access';
import { ApiError } from '../errors';
import { type AppState } from '../state';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function requestHash(ctx: Koa.ParameterizedContext<AppState>): string {
  return createHash('sha256')
    .update(`${ctx.method} ${ctx.path}\n${JSON.stringify(ctx.state.body ?? null)}`)
    .digest('hex');
}

export function idempotency() {
  return async function idempotency(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const key = ctx.get('idempotency-key');
    if (!key || !MUTATING.has(ctx.method)) return next();
    if (key.length > 200) throw new ApiError(400, 'validation_failed', 'Idempotency-Key is longer than 200 characters');
    const { manager } = access(ctx);
    const hash = requestHash(ctx);
    const inserted = (await manager.query(
      'INSERT INTO idempotency_keys (tenant_id, key, request_hash) VALUES (current_setting(\'app.tenant_id\')::uuid, $1, $2) ON CONFLICT DO NOTHING RETURNING key',
      [key, hash],
    )) as unknown[];
    if (inserted.length === 0) {
      const [prior] = (await manager.query('SELECT request_hash, status, response FROM idempotency_keys WHERE key = $1', [key])) as {
        request_hash: string;
        status: number | null;
        response: unknown;
      }[];
      if (!prior || prior.request_hash !== hash) {
        throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
      }
      ctx.status = prior.status ?? 200;
      ctx.body = prior.response ?? undefined;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    await next();
    await manager.query('UPDATE idempotency_keys SET status = $2, response = $3 WHERE key = $1', [key, ctx.status, JSON.stringify(ctx.body ?? null)]);
  };
}
