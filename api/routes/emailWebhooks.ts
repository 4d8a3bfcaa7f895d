// E-mail provider webhooks and one-click unsubscribe: declarations over
// services/outreach/emailEvents.
//
// `POST /api/webhooks/email/{provider}`: the signature (lib/webhookSignature)
// is checked before anything else; a bad one is 401 and nothing is stored.
import { type Client } from '@temporalio/client';
import { z } from 'zod';
import { ApiError, notFound } from '../../lib/errors';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, TOLERANCE_SECONDS, verifyWebhook } from '../../lib/webhookSignature';
import { LOCAL_PRICE_IDS } from '../../lib/plans';
import { type StripeEventJson } from '../../lib/stripeTestEvents';
import { routeConnectEvent } from '../../services/billing/connect';
import { routeStripeEvent } from '../../services/billing/stripeEvents';
import * as events from '../../services/outreach/emailEvents';
import { type AppDeps } from '../deps';
import { assertNoNul } from '../middleware/inputGuard';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/webhooks.responses';

const UNSUBSCRIBE_PAGE =
  '<!doctype html><meta charset="utf-8"><title>Unsubscribe</title><form method="post"><p>Stop receiving these e-mails?</p><button>Unsubscribe</button></form>';

export function webhookRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string; emailWebhookSecrets?: Record<string, string> }) {
  const ds = deps.dataSource;
  // A Map, not an object: `__proto__`, `constructor`, … are just unknown providers.
  const secrets = new Map(Object.entries(deps.emailWebhookSecrets ?? {}));

  r.add(
    {
      method: 'post',
      path: '/api/webhooks/email/:provider',
      summary: 'E-mail provider events (reply, bounce, open), HMAC-signed',
      tag: 'webhooks',
      auth: 'public',
      response: R.webhookReceived,
    },
    ({ ctx, params }) => {
      const provider = params.provider ?? '';
      const secret = secrets.get(provider);
      if (!secret) throw notFound('webhook');
      const raw = ctx.state.rawBody ?? '';
      if (!verifyWebhook(secret, ctx.get(SIGNATURE_HEADER), ctx.get(TIMESTAMP_HEADER), raw)) {
        throw new ApiError(
          401,
          'invalid_signature',
          `the ${SIGNATURE_HEADER} header does not match the body (or the timestamp is outside ${TOLERANCE_SECONDS} s)`,
        );
      }
      let payload: unknown;
      try {
        payload = events.withoutNulInReply(JSON.parse(raw));
      } catch {
        throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
      }
      assertNoNul(payload);
      const parsed = events.emailEventSchema.safeParse(payload);
      if (!parsed.success) {
        throw new ApiError(
          400,
          'validation_failed',
          'not an e-mail event',
          parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message, code: i.code })),
        );
      }
      return events.receiveEmailEvent(ds, deps, `email:${provider}`, parsed.data, payload);
    },
  );

  // What a tenant configures at its e-mail provider: the URL and how deliveries
  // are signed. The secrets stay with the operator (docs/providers.md): this
  // answer names the providers that have one, never a secret.
  r.add(
    {
      method: 'get',
      path: '/api/webhooks/endpoints',
      summary: 'The inbound e-mail webhook endpoints and how deliveries are signed (no secrets)',
      tag: 'webhooks',
      auth: 'tenant',
      permission: 'tokens.manage',
      response: R.webhookEndpoints,
    },
    () => ({
      data: [...secrets.keys()].sort().map((provider) => ({
        provider,
        method: 'POST' as const,
        path: `/api/webhooks/email/${encodeURIComponent(provider)}`,
        signatureHeader: SIGNATURE_HEADER,
        timestampHeader: TIMESTAMP_HEADER,
        toleranceSeconds: TOLERANCE_SECONDS,
        algorithm: 'HMAC-SHA256' as const,
        signedPayload: '{timestamp}.{raw body}',
        signatureFormat: 'v1={hex digest}',
      })),
    }),
  );

  const platform = { tag: 'platform', auth: 'platform' } as const;
  r.add(
    {
      method: 'get',
      path: '/api/platform/webhook-events',
      summary: 'Webhook events that could not be routed (dead letters), newest first',
      ...platform,
      query: listQuery.extend({ status: z.enum(['dead_letter', 'processed']).default('dead_letter') }),
      response: R.webhookEvents,
    },
    ({ query }) => events.listWebhookEvents(ds, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/platform/webhook-events/:id/replay',
      summary: 'Route a dead-lettered event again',
      ...platform,
      params: { id: { prefix: 'whk', resource: 'webhook event' } },
      response: R.webhookReplayed,
    },
    ({ params }) =>
      events.replayWebhookEvent(ds, deps, params.id ?? '', {
        stripe: (m, payload) =>
          routeStripeEvent(m, { client: deps.client, taskQueue: deps.taskQueue, prices: deps.billing?.prices ?? LOCAL_PRICE_IDS }, payload as StripeEventJson),
        'stripe-connect': (m, payload) => routeConnectEvent(m, payload as StripeEventJson),
      }),
  );

  // One-click unsubscribe (RFC 8058): the token on every message names its
  // tenant and is otherwise random; POST unsubscribes, GET shows a button.
  r.add(
    { method: 'get', path: '/api/unsubscribe/:token', html: true, summary: 'Unsubscribe page for a recipient', tag: 'webhooks', auth: 'public' },
    ({ ctx, params }) => {
      if (!events.unsubscribeTokenTenant(params.token ?? '')) throw notFound('unsubscribe link');
      ctx.type = 'text/html';
      ctx.body = UNSUBSCRIBE_PAGE;
    },
  );
  r.add(
    {
      method: 'post',
      path: '/api/unsubscribe/:token',
      summary: 'One-click unsubscribe (List-Unsubscribe-Post)',
      tag: 'webhooks',
      auth: 'public',
      response: R.unsubscribed,
    },
    ({ params }) => events.unsubscribeByToken(ds, deps, params.token ?? ''),
  );
}
