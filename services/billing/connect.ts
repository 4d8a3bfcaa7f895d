// Client billing through Stripe Connect Express (docs/operations.md): a tenant bills
// its own customers through its own connected account. The account id is
// sealed at rest with the keyring (its key id recorded, re-sealed under the
// current key whenever it is used); the Connect webhook finds the tenant by a
// digest of the account id alone. Client invoices go draft → open (a Checkout
// Session on behalf of the account, the platform fee taken) → paid | failed |
// refunded, moved by the Connect webhook's events.
import { callStripe, idempotencyHour, requireStripe } from '../../lib/stripe';
import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import { type EntityManager } from 'typeorm';
import {
  clientInvoiceCheckout,
  type ClientInvoiceRow,
  connectAccountState,
  connectAccountTenant,
  type ConnectAccountRow,
  findClientInvoiceOfEvent,
  getConnectAccount,
  insertClientInvoice,
  insertConnectAccount,
  insertConnectAccountRoute,
  listClientInvoices,
  lockClientInvoice,
  markConnectAccountDeauthorized,
  moveClientInvoice,
  openClientInvoice,
  resealConnectAccount,
  updateConnectAccountState,
} from '../../db/connect';
import { newId } from '../../db/ids';
import { type ListParams } from '../../db/pagination';
import { withTenantInTransaction } from '../../db/tenantContext';
import { type Keyring, open, reseal, seal } from '../../lib/encryption';
import { ApiError, notFound } from '../../lib/errors';
import { platformFee } from '../../lib/plans';
import { connectAccountAad } from '../../lib/secretScopes';
import { localId, signedDelivery, stripeEvent, type StripeEventJson } from '../../lib/stripeTestEvents';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { type RouteResult } from '../../db/webhookEvents';

export interface ConnectDeps {
  stripe?: Stripe;
  keyring?: Keyring;
  consoleUrl: string;
  /** The platform's fee on a client invoice, in basis points. */
  feeBps: number;
  /**
   * Billing's local test mode: Stripe is stripe-mock, whose onboarding and
   * checkout URLs lead nowhere, so both are the console's local pages, which
   * complete the flow by posting the signed Connect events Stripe would send.
   */
  localMode?: boolean;
  /** The Connect endpoint's signing secret (local mode signs its events with it). */
  connectWebhookSecret?: string;
}

export const LOCAL_ONBOARDING_PATH = '/accounting/client-billing/local-onboarding';
export const LOCAL_CHECKOUT_PATH = '/accounting/client-billing/local-checkout';

export const accountLookup = (accountId: string) => createHash('sha256').update(`stripe-connect:${accountId}`).digest('hex');

function requireKeyring(deps: ConnectDeps, verb: 'stored' | 'read'): Keyring {
  if (!deps.keyring) throw new ApiError(503, 'encryption_not_configured', `TENANTFLOW_ENCRYPTION_KEYS is unset: the connected account cannot be ${verb}`);
  return deps.keyring;
}

function requireStripeAndKeyring(deps: ConnectDeps): { stripe: Stripe; keyring: Keyring } {
  const stripe = requireStripe(deps.stripe);
  return { stripe, keyring: requireKeyring(deps, 'stored') };
}

/** The tenant's connected account, which must exist and still be authorized to take payments. */
async function usableAccount(m: EntityManager, tenantId: string, keyring: Keyring): Promise<{ id: string; row: ConnectAccountRow }> {
  const account = await accountId(m, tenantId, keyring);
  if (!account) throw new ApiError(409, 'connect_not_started', 'connect a Stripe account first (client billing → connect)');
  if (account.row.deauthorized_at) throw deauthorized();
  return account;
}

/** The tenant's connected account id, opened (and re-sealed if an older key sealed it). */
async function accountId(m: EntityManager, tenantId: string, keyring: Keyring): Promise<{ id: string; row: ConnectAccountRow } | undefined> {
  const row = await getConnectAccount(m);
  if (!row) return undefined;
  const sealed = { keyId: row.account_key_id, ciphertext: row.account_ciphertext };
  const id = open(keyring, sealed, connectAccountAad(tenantId));
  const current = reseal(keyring, sealed, connectAccountAad(tenantId));
  if (current !== sealed) await resealConnectAccount(m, current);
  return { id, row };
}

/** Creates the Express account once and answers an onboarding link (never logged, never stored). */
export async function startConnect(a: TenantAccess, deps: ConnectDeps) {
  const { stripe, keyring } = requireStripeAndKeyring(deps);
  let existing = await accountId(a.manager, a.tenantId, keyring);
  if (!existing) {
    const account = await callStripe(() =>
      stripe.accounts.create({ type: 'express', metadata: { tenant_id: a.tenantId } }, { idempotencyKey: `tenant/${a.tenantId}/connect/account` }),
    );
    const sealed = seal(keyring, account.id, connectAccountAad(a.tenantId));
    await insertConnectAccount(a.manager, sealed);
    await insertConnectAccountRoute(a.manager, accountLookup(account.id), a.tenantId);
    await auditBy(a, { action: 'client_billing.connect_account_created', outcome: 'success', targetType: 'connect_account', targetId: a.tenantId });
    existing = {
      id: account.id,
      row: { details_submitted: false, charges_enabled: false, payouts_enabled: false, deauthorized_at: null } as ConnectAccountRow,
    };
  }
  if (existing.row.deauthorized_at) throw deauthorized();
  const link = await callStripe(() =>
    stripe.accountLinks.create(
      {
        account: existing.id,
        type: 'account_onboarding',
        refresh_url: `${deps.consoleUrl}/accounting/client-billing?onboarding=refresh`,
        return_url: `${deps.consoleUrl}/accounting/client-billing?onboarding=done`,
      },
      { idempotencyKey: `tenant/${a.tenantId}/connect/onboarding-link/${idempotencyHour()}` },
    ),
  );
  return { url: deps.localMode ? `${deps.consoleUrl}${LOCAL_ONBOARDING_PATH}` : link.url };
}

const deauthorized = () =>
  new ApiError(409, 'connect_deauthorized', 'the connected Stripe account was disconnected from Tenantflow; connect it again to take payments');

export async function connectStatus(a: TenantAccess) {
  const row = await connectAccountState(a.manager);
  return {
    connected: Boolean(row) && !row?.deauthorized_at,
    details_submitted: row?.details_submitted ?? false,
    charges_enabled: row?.charges_enabled ?? false,
    payouts_enabled: row?.payouts_enabled ?? false,
    deauthorizedAt: row?.deauthorized_at ?? null,
  };
}

const invoiceJson = (r: ClientInvoiceRow) => ({
  id: r.id,
  customerId: r.customer_id,
  currency: r.currency,
  lines: r.lines,
  amountTotal: r.amount_total,
  applicationFee: r.application_fee,
  status: r.status,
  checkoutUrl: r.checkout_url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function createInvoice(
  a: TenantAccess,
  deps: Pick<ConnectDeps, 'feeBps'>,
  customerId: string,
  input: { currency: string; lines: { description: string; amountCents: number; quantity: number }[] },
) {
  const total = input.lines.reduce((s, l) => s + l.amountCents * l.quantity, 0);
  if (total > 99_999_999) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'lines', message: 'the total is too large', code: 'too_big' }]);
  const id = newId('cinv');
  const row = await insertClientInvoice(a.manager, {
    id,
    customerId,
    currency: input.currency,
    lines: input.lines,
    total,
    applicationFee: platformFee(total, deps.feeBps),
  });
  await auditBy(a, {
    action: 'client_billing.invoice_created',
    outcome: 'success',
    targetType: 'client_invoice',
    targetId: id,
    details: { total, currency: input.currency },
  });
  return invoiceJson(row);
}

export async function listInvoices(a: TenantAccess, customerId: string, list: ListParams) {
  const p = await listClientInvoices(a.manager, customerId, list);
  return { data: p.data.map(invoiceJson), nextCursor: p.nextCursor };
}

/** A Checkout Session for the invoice on behalf of the tenant's account, with the platform's fee. */
export async function invoiceCheckout(a: TenantAccess, deps: ConnectDeps, customerId: string, id: string) {
  const { stripe, keyring } = requireStripeAndKeyring(deps);
  const inv = await lockClientInvoice(a.manager, id, customerId);
  if (!inv) throw notFound('invoice');
  if (inv.status === 'paid' || inv.status === 'refunded') throw new ApiError(409, 'invoice_closed', `the invoice is ${inv.status}`);
  const account = await usableAccount(a.manager, a.tenantId, keyring);
  const session = await callStripe(() =>
    stripe.checkout.sessions.create(
      {
        mode: 'payment',
        line_items: inv.lines.map((l) => ({
          quantity: l.quantity,
          price_data: { currency: inv.currency, unit_amount: l.amountCents, product_data: { name: l.description } },
        })),
        payment_intent_data: {
          on_behalf_of: account.id,
          transfer_data: { destination: account.id },
          application_fee_amount: inv.application_fee,
          metadata: { tenant_id: a.tenantId, invoice_id: inv.id },
        },
        metadata: { tenant_id: a.tenantId, invoice_id: inv.id },
        success_url: `${deps.consoleUrl}/accounting/client-billing?paid=${inv.id}`,
        cancel_url: `${deps.consoleUrl}/accounting/client-billing`,
      },
      { idempotencyKey: `tenant/${a.tenantId}/client-invoice/${inv.id}/checkout/${inv.status === 'failed' ? `retry-${inv.updated_at.getTime()}` : 'first'}` },
    ),
  );
  const url = deps.localMode ? `${deps.consoleUrl}${LOCAL_CHECKOUT_PATH}?customer=${encodeURIComponent(customerId)}&invoice=${inv.id}` : session.url;
  const row = await openClientInvoice(a.manager, inv.id, { sessionId: session.id, url });
  await auditBy(a, { action: 'client_billing.invoice_checkout', outcome: 'success', targetType: 'client_invoice', targetId: inv.id });
  return invoiceJson(row);
}

function requireLocalMode(deps: ConnectDeps): { keyring: Keyring; secret: string } {
  if (!deps.localMode || !deps.connectWebhookSecret) throw new ApiError(404, 'not_found', 'this is only available in billing’s local test mode');
  return { keyring: requireKeyring(deps, 'read'), secret: deps.connectWebhookSecret };
}

/**
 * Local test mode only: what Stripe would post to the Connect endpoint once
 * the owner finishes Express onboarding, signed with the local Connect
 * secret, for the caller to deliver to the real endpoint.
 */
export async function localOnboardingDelivery(a: TenantAccess, deps: ConnectDeps) {
  const { keyring, secret } = requireLocalMode(deps);
  const account = await usableAccount(a.manager, a.tenantId, keyring);
  const object = { id: account.id, object: 'account', type: 'express', details_submitted: true, charges_enabled: true, payouts_enabled: true };
  return signedDelivery(stripeEvent('account.updated', object, { account: account.id }), secret);
}

/**
 * Local test mode only: what Stripe would post to the Connect endpoint once
 * the customer pays the invoice's checkout, signed likewise.
 */
export async function localInvoicePaymentDelivery(a: TenantAccess, deps: ConnectDeps, customerId: string, id: string) {
  const { keyring, secret } = requireLocalMode(deps);
  const inv = await clientInvoiceCheckout(a.manager, id, customerId);
  if (!inv) throw notFound('invoice');
  if (inv.status !== 'open' || !inv.checkout_session_id) throw new ApiError(409, 'invoice_not_open', `the invoice is ${inv.status}; open its checkout first`);
  const account = await usableAccount(a.manager, a.tenantId, keyring);
  const object = {
    id: inv.checkout_session_id,
    object: 'checkout.session',
    mode: 'payment',
    payment_status: 'paid',
    status: 'complete',
    payment_intent: localId('pi'),
    metadata: { tenant_id: a.tenantId, invoice_id: inv.id },
  };
  return signedDelivery(stripeEvent('checkout.session.completed', object, { account: account.id }), secret);
}

/** Which invoice states an event may move from: a refund is final, a late success never undoes it. */
const MOVES: Record<string, { to: string; from: string[] }> = {
  'checkout.session.completed': { to: 'paid', from: ['draft', 'open', 'failed'] },
  'payment_intent.succeeded': { to: 'paid', from: ['draft', 'open', 'failed'] },
  'payment_intent.payment_failed': { to: 'failed', from: ['draft', 'open'] },
  'charge.refunded': { to: 'refunded', from: ['paid'] },
};

/** Routes one Connect event, in the transaction holding its webhook_events row; the tenant comes from the account id alone. */
export async function routeConnectEvent(m: EntityManager, event: StripeEventJson): Promise<RouteResult> {
  if (!event.account) return { status: 'dead_letter', error: 'the event names no connected account' };
  const tenantId = await connectAccountTenant(m, accountLookup(event.account));
  if (!tenantId) return { status: 'dead_letter', error: 'no tenant has this connected account' };
  const o = event.data.object;
  return withTenantInTransaction(m, tenantId, async (tm): Promise<RouteResult> => {
    if (event.type === 'account.updated') {
      await updateConnectAccountState(tm, {
        detailsSubmitted: o.details_submitted === true,
        chargesEnabled: o.charges_enabled === true,
        payoutsEnabled: o.payouts_enabled === true,
      });
    } else if (event.type === 'account.application.deauthorized') {
      await markConnectAccountDeauthorized(tm);
    } else if (MOVES[event.type]) {
      const move = MOVES[event.type]!;
      const invoiceId = (o.metadata as Record<string, unknown> | undefined)?.invoice_id;
      const paymentIntent = typeof o.payment_intent === 'string' ? o.payment_intent : event.type.startsWith('payment_intent.') ? (o.id as string) : null;
      const inv = await findClientInvoiceOfEvent(tm, invoiceId, paymentIntent);
      if (!inv) return { status: 'dead_letter', tenantId, error: 'no invoice of this tenant matches the event' };
      await moveClientInvoice(tm, inv.id, move, paymentIntent);
    }
    return { status: 'processed', tenantId };
  });
}
