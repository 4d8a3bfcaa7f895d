// The website-event endpoint's credential and CORS (docs/analytics.md,
// "Website events"). A publishable key is read from `?key=` or the
// `X-Publishable-Key` header on this one path only — nowhere else does it
// mean anything, so on any other route it is no credential at all. The
// request's Origin must be one the key allows, for the preflight and the
// request alike: a missing or other origin is a 403 and the body is never
// read. Browsers send no header values with a preflight, so a page puts the
// key in the URL; the allowed origin is echoed back (never `*`, never with
// credentials), on errors too, so the page can read a 400 or a 429.
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { ApiError } from '../../lib/errors';
import { invalidKey, liveKey } from '../../services/access/publishableKeys';
import { type AppState } from '../state';

export const CTA_PATH = '/api/analytics/cta';
export const PUBLISHABLE_KEY_HEADER = 'x-publishable-key';
/** A batch's body limit: 100 events with 4 KB of properties each fit. */
export const CTA_BODY_BYTES = 512 * 1024;

export function publishableKeyCors(dataSource: DataSource) {
  return async function publishableKeyCors(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (ctx.path !== CTA_PATH) return next();
    const fromQuery = typeof ctx.query.key === 'string' ? ctx.query.key : '';
    const fromHeader = ctx.get(PUBLISHABLE_KEY_HEADER);
    if (fromQuery && fromHeader && fromQuery !== fromHeader)
      throw new ApiError(400, 'conflicting_keys', 'the key in the URL and the X-Publishable-Key header differ');
    const key = fromQuery || fromHeader;
    if (!key) throw new ApiError(401, 'missing_publishable_key', 'send the publishable key as ?key=… (or in the X-Publishable-Key header)');
    const live = await liveKey(dataSource, key);
    if (!live) throw invalidKey();
    const origin = ctx.get('origin');
    if (!origin || !live.allowedOrigins.includes(origin)) {
      throw new ApiError(403, 'origin_not_allowed', 'this page’s origin is not one of the key’s allowed origins');
    }
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.vary('Origin');
    if (ctx.method === 'OPTIONS') {
      ctx.set('Access-Control-Allow-Methods', 'POST');
      ctx.set('Access-Control-Allow-Headers', 'content-type, x-publishable-key');
      ctx.set('Access-Control-Max-Age', '600');
      ctx.status = 204;
      return;
    }
    ctx.set('Access-Control-Expose-Headers', 'Retry-After');
    ctx.state.publishableKey = { key, live };
    return next();
  };
}
