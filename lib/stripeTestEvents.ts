// Stripe-shaped webhook events, for billing's local test mode (the console's
// local checkout and `npm run billing:event`) and the tests: the same JSON
// Stripe posts, signed with the endpoint's secret the way Stripe signs it, so
// they enter through the real webhook endpoint and its signature check.
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { type PackKey, type PlanKey, type PriceIds } from './plans';

export interface StripeEventJson {
  id: string;
  object: 'event';
  type: string;
  created: number;
  api_version: string;
  livemode: false;
  account?: string;
  data: { object: Record<string, unknown> };
}

const sec = (ms: number) => Math.floor(ms / 1000);
export const localId = (prefix: string) => `${prefix}_local_${randomBytes(9).toString('hex')}`;

export function stripeEvent(type: string, object: Record<string, unknown>, opts: { id?: string; created?: number; account?: string } = {}): StripeEventJson {
  return {
    id: opts.id ?? localId('evt'),
    object: 'event',
    type,
    created: opts.created ?? sec(Date.now()),
    api_version: '2025-01-27.acacia',
    livemode: false,
    ...(opts.account ? { account: opts.account } : {}),
    data: { object },
  };
}

export interface SubscriptionEventInput {
  customer: string;
  subscriptionId: string;
  status: 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled' | 'incomplete';
  plan: PlanKey;
  prices: PriceIds;
  periodStart: number;
  periodEnd: number;
  trialEnd?: number | null;
}

export function subscriptionObject(i: SubscriptionEventInput): Record<string, unknown> {
  const price = i.plan === 'free' ? 'price_free' : i.prices[i.plan];
  return {
    id: i.subscriptionId,
    object: 'subscription',
    customer: i.customer,
    status: i.status,
    current_period_start: sec(i.periodStart),
    current_period_end: sec(i.periodEnd),
    trial_end: i.trialEnd ? sec(i.trialEnd) : null,
    items: {
      object: 'list',
      data: [{ id: localId('si'), price: { id: price }, current_period_start: sec(i.periodStart), current_period_end: sec(i.periodEnd) }],
    },
  };
}

/** An invoice; `price` is the price its one line charges for (a plan's, for a subscription invoice). */
export function invoiceObject(i: { customer: string; subscriptionId: string | null; periodStart: number; periodEnd: number; amount: number; price?: string }) {
  return {
    id: localId('in'),
    object: 'invoice',
    customer: i.customer,
    subscription: i.subscriptionId,
    amount_paid: i.amount,
    period_start: sec(i.periodStart),
    period_end: sec(i.periodEnd),
    lines: {
      object: 'list',
      data: [{ amount: i.amount, ...(i.price ? { price: { id: i.price } } : {}), period: { start: sec(i.periodStart), end: sec(i.periodEnd) } }],
    },
  };
}

export function packCheckoutObject(i: { customer: string; tenantId: string; pack: PackKey; amount: number }) {
  return {
    id: localId('cs'),
    object: 'checkout.session',
    mode: 'payment',
    customer: i.customer,
    payment_status: 'paid',
    amount_total: i.amount,
    client_reference_id: i.tenantId,
    metadata: { tenant_id: i.tenantId, pack: i.pack },
  };
}

/** The body and Stripe-Signature header of one delivery. */
export function signedDelivery(event: object, secret: string, timestamp?: number): { body: string; signature: string } {
  const body = JSON.stringify(event);
  return { body, signature: Stripe.webhooks.generateTestHeaderString({ payload: body, secret, ...(timestamp ? { timestamp } : {}) }) };
}
