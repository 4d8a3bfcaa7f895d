// Cross-site request forgery: a browser sends the session cookie with any form
// POST to the API's host, even from another origin of the same site
// (127.0.0.1:3000 → :4000). A cookie-authenticated mutation therefore needs a
// browser's word that it comes from an allowed origin: `Origin`, or
// `Sec-Fetch-Site: same-origin|none`. Requests with neither header come from
// non-browser clients (the console's server, scripts), which no page can make a
// browser imitate; bearer tokens are exempt (a browser never adds them).
import type Koa from 'koa';
import { SESSION_COOKIE } from '../access';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The API's own pages (behind a TLS terminator the API itself sees http, the browser https). */
function sameHost(origin: string, host: string): boolean {
  try {
    return host !== '' && new URL(origin).host === host;
  } catch {
    return false;
  }
}

export function sameOrigin(allowedOrigins: string[]) {
  const allowed = new Set(allowedOrigins);
  return async function sameOrigin(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (SAFE.has(ctx.method) || ctx.get('authorization') || !ctx.cookies.get(SESSION_COOKIE)) return next();
    const origin = ctx.get('origin');
    const site = ctx.get('sec-fetch-site');
    const refused = origin ? !allowed.has(origin) && !sameHost(origin, ctx.get('host')) : site !== '' && site !== 'same-origin' && site !== 'none';
    if (refused) throw new ApiError(403, 'cross_site_request', 'this request came from another site; use the console or an API token');
    return next();
  };
}
