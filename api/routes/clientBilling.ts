// Client billing: a tenant bills its own customers through its Stripe Connect
// Express account — connecting it, its state, client invoices and their
// checkout, and billing's local test mode of both — declarations over
// services/billing/connect.
import { forbidden } from '../../lib/errors';
import * as connect from '../../services/billing/connect';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as S from '../schemas/billing';
import * as R from '../schemas/billing.responses';
import { STRIPE_ERRORS } from './billing';
import { type StripeDeps, stripeReceivers } from './stripeWebhooks';

const tag = 'client-billing';
const read = { tag, auth: 'tenant', permission: 'billing.read' } as const;
const manage = { tag, auth: 'tenant', permission: 'billing.manage' } as const;

export function clientBillingRoutes(r: Routes, deps: StripeDeps) {
  const b = deps.billing;
  const connectDeps: connect.ConnectDeps = {
    stripe: b.stripe,
    keyring: deps.keyring,
    consoleUrl: b.consoleUrl,
    feeBps: b.feeBps,
    localMode: b.localMode,
    connectWebhookSecret: b.connectWebhookSecret,
  };
  const { connectEvent } = stripeReceivers(deps);

  r.add(
    {
      method: 'post',
      path: '/api/client-billing/connect/start',
      errors: STRIPE_ERRORS,
      summary: 'Create the tenant’s Stripe Connect Express account (once) and answer an onboarding link (owner)',
      ...manage,
      feature: 'client_billing',
      response: R.redirectUrl,
    },
    ({ access }) => {
      if (access.roleKey !== 'owner') throw forbidden('only the tenant’s owner connects its Stripe account');
      return connect.startConnect(access, connectDeps);
    },
  );
  r.add(
    { method: 'get', path: '/api/client-billing/connect/status', summary: 'The connected account’s state', ...read, response: R.connectStatus },
    ({ access }) => connect.connectStatus(access),
  );
  r.add(
    {
      method: 'get',
      path: '/api/client-billing/invoices',
      summary: "The customer's client invoices, newest first",
      ...read,
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
