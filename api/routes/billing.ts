// The tenant's own billing: its plan and usage, Stripe Checkout for a plan or
// a credit pack, the billing portal, and billing's local test mode —
// declarations over services/billing/account. Client billing is
// api/routes/clientBilling.ts; Stripe's webhooks are api/routes/stripeWebhooks.ts.
import * as account from '../../services/billing/account';
import { type Routes } from '../routing';
import * as S from '../schemas/billing';
import * as R from '../schemas/billing.responses';
import { type StripeDeps, stripeReceivers } from './stripeWebhooks';

const tag = 'billing';
const read = { tag, auth: 'tenant', permission: 'billing.read' } as const;
const manage = { tag, auth: 'tenant', permission: 'billing.manage' } as const;
/** Stripe refused the call or could not be reached. */
export const STRIPE_ERRORS = { 502: 'stripe_error: Stripe refused the request or could not be reached' } as const;

export function billingRoutes(r: Routes, deps: StripeDeps) {
  const b = deps.billing;
  const billingDeps: account.BillingDeps = {
    stripe: b.stripe,
    prices: b.prices,
    consoleUrl: b.consoleUrl,
    localMode: b.localMode,
    webhookSecret: b.webhookSecret,
  };
  const { platformEvent } = stripeReceivers(deps);

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
}
