// Open and click tracking of campaign mail (docs/analytics.md, "Tracking"):
// declarations over services/outreach/tracking. Public, like the unsubscribe
// page: the signed token in the path is the only credential, and every token
// that does not verify, or names no message of its tenant, is the same 404.
import { notFound } from '../../lib/errors';
import { PIXEL_GIF } from '../../lib/tracking';
import { recordTrackingFetch, type TrackingFetch } from '../../services/outreach/tracking';
import { type AppDeps } from '../deps';
import { type RouteContext, type Routes } from '../routing';

const fetchOf = (ctx: RouteContext, token: string): TrackingFetch => ({
  token,
  method: ctx.method,
  userAgent: ctx.get('user-agent').slice(0, 500),
  clientAddress: ctx.state.clientAddress ?? 'unknown',
});

export function trackingRoutes(r: Routes, deps: AppDeps) {
  const ds = deps.dataSource;
  const tracking = { tag: 'tracking', auth: 'public' } as const;

  r.add(
    {
      method: 'get',
      path: '/api/t/o/:token',
      summary: 'Open pixel of a tracked message: a 1×1 GIF (image/gif; the path ends in .gif)',
      ...tracking,
      download: ['image/gif'],
    },
    async ({ ctx, params }) => {
      const token = (params.token ?? '').replace(/\.gif$/, '');
      await recordTrackingFetch(ds, deps.keyring, 'open', fetchOf(ctx, token));
      // Every fetch must reach the API (a cached pixel is an open not seen).
      ctx.set('Cache-Control', 'no-store, private');
      ctx.type = 'image/gif';
      ctx.body = PIXEL_GIF;
    },
  );

  r.add(
    {
      method: 'get',
      path: '/api/t/c/:token',
      summary: 'Tracked link of a message: redirects (302) to the target its signed token names',
      ...tracking,
      status: 302,
      redirect: true,
    },
    async ({ ctx, params }) => {
      const { url } = await recordTrackingFetch(ds, deps.keyring, 'click', fetchOf(ctx, params.token ?? ''));
      if (!url) throw notFound('tracking link');
      ctx.set('Cache-Control', 'no-store, private');
      ctx.redirect(url);
    },
  );
}
