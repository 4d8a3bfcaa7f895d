// One log line per request: requestId (from the request's logger), tenantId and
// userId from the verified credential, the matched route *pattern* — never the
// raw path or query, which can hold customer ids or search terms — status and
// duration.
import type Koa from 'koa';
import { type AppState } from '../state';

export function requestLog() {
  return async function requestLog(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const p = ctx.state.principal;
      const route = (ctx as unknown as { _matchedRoute?: string })._matchedRoute ?? 'unmatched';
      ctx.state.log?.info(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : 'unmatched',
          status: ctx.status,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
          tenantId: p?.tenantId ?? undefined,
          userId: p?.kind === 'session' ? p.userId : undefined,
          tokenId: p?.kind === 'token' ? p.tokenId : undefined,
        },
        'request',
      );
    }
  };
}
