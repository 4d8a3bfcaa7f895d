// The one error boundary, mounted first. Known errors answer with their status
// and code; anything else answers 500 with the request id and no internals,
// and is logged once.
import type Koa from 'koa';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

export function errorBoundary() {
  return async function errorBoundary(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, 'not_found', 'route not found');
      }
    } catch (err) {
      if (err instanceof ApiError) {
        ctx.status = err.status;
        ctx.body = { error: { code: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
        // A rate limit's answer says when to come back, in the header clients and proxies read too.
        const retryAfter = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
        if (err.status === 429 && typeof retryAfter === 'number') ctx.set('Retry-After', String(Math.max(1, Math.ceil(retryAfter))));
        return;
      }
      // koa-style HTTP errors (e.g. from body parsing) expose a status.
      const status = (err as { status?: number; expose?: boolean }).status;
      if (status && status >= 400 && status < 500 && (err as { expose?: boolean }).expose) {
        ctx.status = status;
        ctx.body = { error: { code: 'bad_request', message: (err as Error).message } };
        return;
      }
      // Two requests racing for the same unique key (or a row a concurrent
      // request just removed): a conflict the caller can retry, never a 500.
      const pgCode = (err as { code?: string }).code;
      if (pgCode === '23505' || pgCode === '23503' || pgCode === '40001' || pgCode === '40P01') {
        ctx.state.log?.info({ code: pgCode }, 'conflict from the database');
        ctx.status = 409;
        ctx.body = { error: { code: 'conflict', message: 'this conflicts with a concurrent change; try again' } };
        return;
      }
      // Name, code and message only: driver errors carry row values in
      // `detail` (e.g. "Key (email)=(…)"), which must not reach the logs.
      const e = err as { name?: string; code?: string; message?: string; stack?: string };
      ctx.state.log?.error({ err: { name: e.name, code: e.code, message: e.message, stack: e.stack } }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { error: { code: 'internal_error', message: 'internal error', details: { requestId: ctx.state.requestId } } };
    }
  };
}
