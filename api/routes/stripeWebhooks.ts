// Stripe's webhooks: the platform endpoint (subscriptions, invoices, credit
// packs → the tenant's billing workflow) and the Connect endpoint (connected
// accounts and client invoices), each signed with its own secret. The
// signature is checked (constructEvent, 300 s tolerance) before anything
// else; a bad one is 400 and nothing is stored. Billing's local test mode
// delivers its signed events through these same receivers
// (api/routes/billing.ts, api/routes/clientBilling.ts).
import { type Client } from '@temporalio/client';
import { ApiError } from '../../lib/errors';
import { routeConnectEvent } from '../../services/billing/connect';
import { receiveStripeEvent, routeStripeEvent, verifyStripeDelivery } from '../../services/billing/stripeEvents';
import { type AppBilling, type AppDeps } from '../deps';
import { assertNoNul } from '../middleware/inputGuard';
import { type Routes } from '../routing';
import * as R from '../schemas/webhooks.responses';

/** The app's deps with billing's settings resolved (createApp). */
export type StripeDeps = AppDeps & { client: Client; taskQueue: string; billing: AppBilling };

/** A Stripe endpoint's receiver: its signature verified with its own secret, then stored and routed once. */
export type StripeReceiver = (raw: string, signature: string | undefined) => ReturnType<typeof receiveStripeEvent>;

/** The receivers of both endpoints. */
export function stripeReceivers(deps: StripeDeps): { platformEvent: StripeReceiver; connectEvent: StripeReceiver } {
  const ds = deps.dataSource;
  const b = deps.billing;
  const routing = { client: deps.client, taskQueue: deps.taskQueue, prices: b.prices };
  const receiver =
    (secret: string | undefined, secretName: string, source: 'stripe' | 'stripe-connect', route: Parameters<typeof receiveStripeEvent>[3]): StripeReceiver =>
    (raw, signature) => {
      if (!secret) throw new ApiError(503, 'billing_not_configured', `${secretName} is unset`);
      const event = verifyStripeDelivery(raw, signature, secret);
      assertNoNul(event);
      return receiveStripeEvent(ds, source, event, route);
    };
  return {
    platformEvent: receiver(b.webhookSecret, 'STRIPE_WEBHOOK_SECRET', 'stripe', (m, e) => routeStripeEvent(m, routing, e)),
    connectEvent: receiver(b.connectWebhookSecret, 'STRIPE_CONNECT_WEBHOOK_SECRET', 'stripe-connect', routeConnectEvent),
  };
}

export function stripeWebhookRoutes(r: Routes, deps: StripeDeps) {
  const { platformEvent, connectEvent } = stripeReceivers(deps);
  r.add(
    {
      method: 'post',
      path: '/api/webhooks/stripe',
      summary: 'Stripe platform events, signed (Stripe-Signature)',
      tag: 'webhooks',
      auth: 'public',
      response: R.webhookReceived,
    },
    ({ ctx }) => platformEvent(ctx.state.rawBody ?? '', ctx.get('stripe-signature') || undefined),
  );
  r.add(
    {
      method: 'post',
      path: '/api/webhooks/stripe-connect',
      summary: 'Stripe Connect events, signed with the Connect endpoint’s own secret',
      tag: 'webhooks',
      auth: 'public',
      response: R.webhookReceived,
    },
    ({ ctx }) => connectEvent(ctx.state.rawBody ?? '', ctx.get('stripe-signature') || undefined),
  );
}
