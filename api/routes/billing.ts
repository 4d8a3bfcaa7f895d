// Billing routes (spec §5.5): the tenant's plan and usage, Stripe Checkout and
// the portal, billing's local test mode, client billing through Stripe
// Connect, and both Stripe webhooks — declarations over services/billing.
//
// A webhook's signature is checked (constructEvent, 300 s tolerance) before
// anything else; a bad one is 400 and nothing is stored.
import { type Client } from '@temporalio/client';
import { ApiError, forbidden } from '../../lib/errors';
import * as account from '../../services/billing/account';
import * as connect from '../../services/billing/connect';
import { receiveStripeEvent, routeStripeEvent, verifyStripeDelivery } from '../../services/billing/stripeEvents';
import { type AppDeps } from '../deps';
import { assertNoNul } from '../middleware/inputGuard';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as S from '../schemas/billing';
import * as R from '../schemas/billing.responses';

const tag = 'billing';
const read = { tag, auth: 'tenant', permission: 'billing.read' } as const;
const manage = { tag, auth: 'tenant', permission: 'billing.manage' } as const;
const clientTag = 'client-billing';
/** Stripe refused the call or could not be reached. */
const STRIPE_ERRORS = { 502: 'stripe_error: Stripe refused the request or could not be reached' } as const;

export function billingRoutes(r: Routes, deps: AppDeps & { client: Client; taskQueue: string }) {
  const ds = deps.dataSource;
  const b = deps.billing;
  const billingDeps: account.BillingDeps = {
    stripe: b?.stripe,
    prices: b?.prices ?? { starter: '', pro: '', sends_50: '', sends_1000: '' },
    consoleUrl: deps.consoleUrl ?? 'http://127.0.0.1:3000',
    localMode: b?.localMode ?? false,
    webhookSecret: b?.webhookSecret,
  };
  const connectDeps: connect.ConnectDeps = {
    stripe: b?.stripe,
    keyring: deps.keyring,
    consoleUrl: billingDeps.consoleUrl,
    feeBps: b?.feeBps ?? 200,
    localMode: billingDeps.localMode,
    connectWebhookSecret: b?.connectWebhookSecret,
  };
  const routing = { client: deps.client, taskQueue: deps.taskQueue, prices: billingDeps.prices };
  /** A Stripe endpoint: its signature verified with its own secret, then stored and routed once. */
  const receiver =
    (secret: string | undefined, secretName: string, source: 'stripe' | 'stripe-connect', route: Parameters<typeof receiveStripeEvent>[3]) =>
    (raw: string, signature: string | undefined) => {
      if (!secret) throw new ApiError(503, 'billing_not_configured', `${secretName} is unset`);
      const event = verifyStripeDelivery(raw, signature, secret);
      assertNoNul(event);
      return receiveStripeEvent(ds, source, event, route);
    };
  const platformEvent = receiver(b?.webhookSecret, 'STRIPE_WEBHOOK_SECRET', 'stripe', (m, e) => routeStripeEvent(m, routing, e));
  const connectEvent = receiver(b?.connectWebhookSecret, 'STRIPE_CONNECT_WEBHOOK_SECRET', 'stripe-connect', connect.routeConnectEvent);

  r.add({ method: 'get', path: '/api/billing', summary: 'Plan, status, period, entitlements, usage and credits', ...read, response: R.billing }, ({ access }) =>
    account.getBilling(access, billingDeps),
  );
  r.add(
    {
      method: 'post',
      path: '/api/billing/checkout',
      errors: STRIPE_ERRORS,
      summary:
        'A Stripe Checkout Session for a plan; a tenant that already subscribes gets a pending update of its subscription instead (applied once its invoice is paid; the answer leads to the invoice when it needs the customer)',
      ...manage,
      body: S.planCheckoutBody,
      response: R.checkoutSession,
    },
    ({ access, body }) => account.startPlanCheckout(access, billingDeps, body.plan),
  );
  r.add(
    {
      method: 'post',
      path: '/api/billing/credit-packs/checkout',
      errors: STRIPE_ERRORS,
      summary: 'A Stripe Checkout Session for a credit pack',
      ...manage,
      body: S.packCheckoutBody,
      response: R.checkoutSession,
    },
    ({ access, body }) => account.startPackCheckout(access, billingDeps, body.pack),
  );
  r.add(
    { method: 'post', path: '/api/billing/portal', errors: STRIPE_ERRORS, summary: 'A Stripe billing-portal session', ...manage, response: R.redirectUrl },
    ({ access }) => account.openPortal(access, billingDeps),
  );
  r.add(
    {
      method: 'post',
      path: '/api/billing/local-checkout',
      errors: STRIPE_ERRORS,
      summary: 'Local test mode only: complete a checkout by posting the signed events Stripe would send to the webhook endpoint',
      ...manage,
      body: S.localCheckoutBody,
      response: R.localCheckout,
    },
    async ({ access, body }) => {
      const deliveries = await account.localCheckoutDeliveries(access, billingDeps, body);
      // After the commit (the Stripe customer may be new), through the real endpoint's code path.
      access.afterCommit(async () => {
        for (const d of deliveries) await platformEvent(d.body, d.signature);
      });
      return { delivered: deliveries.length };
    },
  );

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

  r.add(
    {
      method: 'post',
      path: '/api/client-billing/connect/start',
      errors: STRIPE_ERRORS,
      summary: 'Create the tenant’s Stripe Connect Express account (once) and answer an onboarding link (owner)',
      ...manage,
      tag: clientTag,
      feature: 'client_billing',
      response: R.redirectUrl,
    },
    ({ access }) => {
      if (access.roleKey !== 'owner') throw forbidden('only the tenant’s owner connects its Stripe account');
      return connect.startConnect(access, connectDeps);
    },
  );
  r.add(
    { method: 'get', path: '/api/client-billing/connect/status', summary: 'The connected account’s state', ...read, tag: clientTag, response: R.connectStatus },
    ({ access }) => connect.connectStatus(access),
  );
  r.add(
    {
      method: 'get',
      path: '/api/client-billing/invoices',
      summary: "The customer's client invoices, newest first",
      ...read,
      tag: clientTag,
      customer: 'required',
      query: listQuery,
      response: R.list(R.clientInvoice),
    },
    ({ access, customerId, query }) => connect.listInvoices(access, customerId, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/client-billing/invoices',
      summary: 'A draft invoice for the customer',
      ...manage,
      tag: clientTag,
      feature: 'client_billing',
      customer: 'required',
      idempotent: true,
      body: S.invoiceBody,
      status: 201,
      response: R.clientInvoice,
    },
    ({ access, customerId, body }) => connect.createInvoice(access, connectDeps, customerId, body),
  );
  r.add(
    {
      method: 'post',
      path: '/api/client-billing/invoices/:id/checkout',
      errors: STRIPE_ERRORS,
      summary: 'A Checkout Session for the invoice, paid to the tenant’s connected account (platform fee taken)',
      ...manage,
      tag: clientTag,
      feature: 'client_billing',
      customer: 'addressed',
      params: { id: { prefix: 'cinv', resource: 'invoice' } },
      response: R.clientInvoice,
    },
    ({ access, customerId, params }) => connect.invoiceCheckout(access, connectDeps, customerId, params.id!),
  );

  // Billing's local test mode stands in for Stripe's hosted pages: the
  // console's local onboarding and checkout pages finish the flow through
  // these, which deliver the signed events Stripe would send, after the
  // commit, through the real Connect endpoint's code path.
  r.add(
    {
      method: 'post',
      path: '/api/client-billing/connect/local-onboarding',
      summary: 'Local test mode only: finish Connect onboarding by posting the signed event Stripe would send (owner)',
      ...manage,
      tag: clientTag,
      response: R.localCheckout,
    },
    async ({ access }) => {
      if (access.roleKey !== 'owner') throw forbidden('only the tenant’s owner connects its Stripe account');
      const d = await connect.localOnboardingDelivery(access, connectDeps);
      access.afterCommit(async () => {
        await connectEvent(d.body, d.signature);
      });
      return { delivered: 1 };
    },
  );
  r.add(
    {
      method: 'post',
      path: '/api/client-billing/invoices/:id/local-checkout',
      summary: 'Local test mode only: pay the invoice’s checkout by posting the signed event Stripe would send',
      ...manage,
      tag: clientTag,
      customer: 'addressed',
      params: { id: { prefix: 'cinv', resource: 'invoice' } },
      response: R.localCheckout,
    },
    async ({ access, customerId, params }) => {
      const d = await connect.localInvoicePaymentDelivery(access, connectDeps, customerId, params.id!);
      access.afterCommit(async () => {
        await connectEvent(d.body, d.signature);
      });
      return { delivered: 1 };
    },
  );
}
