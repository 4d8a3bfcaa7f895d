// Gives every request an id, echoed as X-Request-Id and carried by its logger.
// An inbound X-Request-Id is kept only when it looks like one of ours' shape,
// so callers can correlate without injecting arbitrary text into logs.
import { randomUUID } from 'node:crypto';
import { type Logger } from 'pino';
import type Koa from 'koa';
import { type AppState } from '../state';

const SAFE_ID = /^[A-Za-z0-9._-]{8,64}$/;

export function requestId(baseLog: Logger) {
  return async function requestId(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const inbound = ctx.get('x-request-id');
    const id = SAFE_ID.test(inbound) ? inbound : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = baseLog.child({ requestId: id });
    ctx.set('X-Request-Id', id);
    await next();
  };
}
