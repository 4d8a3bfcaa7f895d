// The client's address, for rate limits. The console calls the API from its
// own server, so every console user would share one address; it names the
// client's in X-Forwarded-For together with a shared secret, and the API
// trusts that header only with the secret — never from anyone else.
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type Koa from 'koa';
import { type AppState } from '../state';

export const CONSOLE_SECRET_HEADER = 'x-tenantflow-console';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function clientAddress(consoleSecret: string | undefined) {
  return async function clientAddress(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    let address = ctx.request.socket.remoteAddress ?? 'unknown';
    const presented = ctx.get(CONSOLE_SECRET_HEADER);
    if (consoleSecret && presented && sameSecret(presented, consoleSecret)) {
      const forwarded = ctx.get('x-forwarded-for').split(',')[0]?.trim() ?? '';
      if (isIP(forwarded)) address = forwarded;
    }
    // At most 64 characters: it names rate-limit buckets and failure rows.
    ctx.state.clientAddress = address.replace(/^::ffff:/, '').slice(0, 64);
    return next();
  };
}
