// Browser defenses on every API response (docs/security.md, "Browser and
// deployment defenses"). The API answers JSON, plus one small HTML page (the
// unsubscribe button): nothing of it may run script, load anything, be framed
// by another site (a framed "Unsubscribe" is a click away from a forged
// one), or be sniffed into another type; and no URL of it (tokens sit in
// paths) leaves for another site in a Referer. (`same-origin`, not
// `no-referrer`: under the latter a browser's form POST says `Origin: null`,
// which the cross-site check refuses.)
import type Koa from 'koa';
import { type AppState } from '../state';

export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

export function securityHeaders() {
  return async function securityHeaders(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    // Set before the rest runs, so error answers carry them too.
    ctx.set(API_SECURITY_HEADERS);
    await next();
  };
}
