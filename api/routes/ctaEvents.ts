// Website events (docs/analytics.md, "Website events"): publishable keys,
// managed with tokens.manage, and the CTA batch a website sends with one.
// The batch's key and origin are checked before its body is read
// (api/middleware/publishableKey.ts); the route itself is public to the
// session and token machinery, which never accepts a publishable key.
import { ApiError } from '../../lib/errors';
import * as keys from '../../services/access/publishableKeys';
import { ingestCtaEvents } from '../../services/analytics/ctaEvents';
import { type AppDeps } from '../deps';
import { CTA_PATH } from '../middleware/publishableKey';
import { type Routes } from '../routing';
import * as S from '../schemas/cta';
import * as R from '../schemas/cta.responses';

const manage = { tag: 'publishable-keys', auth: 'tenant', permission: 'tokens.manage' } as const;

export function publishableKeyRoutes(r: Routes) {
  r.add(
    { method: 'get', path: '/api/publishable-keys', summary: 'List publishable keys (without the keys)', ...manage, response: R.publishableKeyList },
    ({ access }) => keys.listKeys(access),
  );
  r.add(
    {
      method: 'post',
      path: '/api/publishable-keys',
      summary: 'Create a publishable key for a customer’s website (the key is shown once)',
      ...manage,
      idempotent: true,
      body: S.publishableKeyCreate,
      status: 201,
      response: R.issuedPublishableKey,
    },
    ({ access, body, ctx }) => {
      ctx.state.secretFields = ['key'];
      return keys.createKey(access, body);
    },
  );
  r.add(
    {
      method: 'delete',
      path: '/api/publishable-keys/:id',
      summary: 'Revoke a publishable key',
      ...manage,
      idempotent: true,
      params: { id: { prefix: 'pkey', resource: 'publishable key' } },
      status: 204,
    },
    ({ access, params }) => keys.revokeKey(access, params.id!),
  );
}

export function ctaRoutes(r: Routes, deps: AppDeps) {
  r.add(
    {
      method: 'post',
      path: CTA_PATH,
      summary:
        'Record a website’s CTA events (at most 100) with a publishable key in ?key= or X-Publishable-Key, from one of its allowed origins; all or nothing, deduplicated by event id',
      tag: 'analytics',
      auth: 'public',
      body: S.ctaBatch,
      response: R.ctaAccepted,
      errors: {
        401: 'no publishable key, or an invalid or revoked one',
        403: 'the Origin header is missing or not one of the key’s allowed origins',
        413: 'the body exceeds 512 KB',
        429: 'the key’s 600 events per minute are used up; nothing of the batch was stored (Retry-After)',
      },
    },
    ({ ctx, body }) => {
      const presented = ctx.state.publishableKey;
      if (!presented) throw new ApiError(401, 'missing_publishable_key', 'send the publishable key as ?key=… (or in the X-Publishable-Key header)');
      return ingestCtaEvents(deps.dataSource, presented.key, presented.live, body.events);
    },
  );
}
