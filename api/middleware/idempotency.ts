// Idempotency-Key (docs/security.md, "What isolates what"). A key is scoped to
// tenant + principal + customer: another caller (or the same member working in
// another customer) who sends the same key starts afresh and never sees the
// first caller's response. The key row is inserted in the request's own
// transaction, so a concurrent duplicate waits on the unique key and then sees
// the finished first response; a request that fails rolls its key back and can
// be retried. Same key + same request → the first response again; same key + a
// different request → 409. Records expire after 24 hours (db/idempotencyKeys).
// A response that reveals a secret once (an API token) is stored without it,
// and its replay is a 409 naming what was created, so the secret is never shown
// twice.
import { createHash } from 'node:crypto';
import type Koa from 'koa';
import { claimIdempotencyKey, priorIdempotentResponse, storeIdempotentResponse } from '../../db/idempotencyKeys';
import { access } from '../access';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The request a key stands for. No body and `{}` are the same request (the
 * body parser reads `{}` as no body), so a client retrying with the other
 * form replays rather than conflicts. The body nests at most MAX_BODY_DEPTH
 * deep (inputGuard ran first), so JSON.stringify's recursion stays shallow.
 */
function requestHash(ctx: Koa.ParameterizedContext<AppState>): string {
  const body = ctx.state.body ?? null;
  return createHash('sha256')
    .update(`${ctx.method} ${ctx.path}\n${JSON.stringify(body)}`)
    .digest('hex');
}

/** Who the key belongs to: the principal and the customer it works in. */
function keyScope(ctx: Koa.ParameterizedContext<AppState>): string {
  const a = access(ctx);
  const principal = a.tokenId ? `tok:${a.tokenId}` : `usr:${a.userId ?? ''}`;
  // The customer the request works in (customerScope ran before this), else the caller's own.
  const customer = ctx.state.customer?.id ?? a.restrictedCustomerId ?? '';
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
    if (!(await claimIdempotencyKey(manager, scope, key, hash))) {
      const prior = await priorIdempotentResponse(manager, scope, key);
      if (!prior || prior.request_hash !== hash) {
        throw new ApiError(409, 'idempotency_key_reused', 'this Idempotency-Key was used for a different request');
      }
      if (prior.secret_withheld) {
        const id = (prior.response as { id?: unknown } | null)?.id;
        throw new ApiError(
          409,
          'secret_already_shown',
          'the first request with this Idempotency-Key succeeded; its secret is shown once only — revoke it and issue another if it was lost',
          {
            ...(typeof id === 'string' ? { id } : {}),
          },
        );
      }
      ctx.status = prior.status ?? 200;
      ctx.body = prior.response ?? undefined;
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    await next();
    const secrets = ctx.state.secretFields ?? [];
    const stored = secrets.length ? withoutSecrets(ctx.body, secrets) : ctx.body;
    await storeIdempotentResponse(manager, scope, key, ctx.status, stored, secrets.length > 0);
  };
}
