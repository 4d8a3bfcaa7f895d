// The one error boundary, mounted first. Known errors answer with their status
// and code; a dependency that is down or too slow (PostgreSQL, Temporal)
// answers 503 dependency_unavailable; anything else answers 500 with the
// request id and no internals, and is logged once.
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
      if (isDependencyDown(err)) {
        const e = err as { name?: string; code?: string | number; message?: string };
        ctx.state.log?.warn({ err: { name: e.name, code: e.code, message: e.message } }, 'a dependency is unavailable');
        ctx.status = 503;
        ctx.set('Retry-After', '5');
        ctx.body = {
          error: {
            code: 'dependency_unavailable',
            message: 'a service this request needs is unavailable; try again shortly',
            details: { requestId: ctx.state.requestId },
          },
        };
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

/** SQLSTATEs of a database that cannot serve now: connection exceptions (class 08), shutdown and start-up, too many connections, a statement or lock wait that timed out. */
const PG_UNAVAILABLE = /^(08...|57P01|57P02|57P03|53300|57014|55P03)$/;
/** Socket errors on the way to a dependency. */
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** What node-postgres and its pool say when the server does not answer in time or the connection is lost. */
const PG_CLIENT_UNAVAILABLE =
  /^(timeout exceeded when trying to connect|Connection terminated( unexpectedly| due to connection timeout)?|Query read timeout|Client has encountered a connection error and is not queryable)$/;
/** gRPC statuses of a Temporal server that is down, paused or overloaded: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED. */
const GRPC_UNAVAILABLE = new Set([14, 4, 8]);

/**
 * Whether `err` (or what it wraps: TypeORM's driverError, an error's cause,
 * Temporal's ServiceError around a gRPC status) says a dependency is down or
 * did not answer in time, rather than that the request or the code is wrong.
 */
export function isDependencyDown(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err as Record<string, unknown> | undefined; e && typeof e === 'object' && !seen.has(e) && seen.size < 8;) {
    seen.add(e);
    const code = e.code;
    if (typeof code === 'string' && (PG_UNAVAILABLE.test(code) || NET_UNAVAILABLE.has(code))) return true;
    if (typeof code === 'number' && GRPC_UNAVAILABLE.has(code) && 'details' in e) return true;
    if (typeof e.message === 'string' && PG_CLIENT_UNAVAILABLE.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as Record<string, unknown> | undefined;
  }
  return false;
}
