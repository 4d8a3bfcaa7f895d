// Stripe's platform webhook (docs/operations.md, "Billing"). The caller verifies the
// signature (constructEvent, 300 s tolerance) before anything here runs. The
// event is stored in webhook_events, unique on (source, event_id), in the
// same transaction that routes it: a repeated delivery answers 200 and does
// nothing. The tenant comes from the Stripe customer id recorded at
// provisioning — never from anything else in the payload — and the event,
// reduced to what the lifecycle needs, is signalled to the tenant's billing
// workflow (signalWithStart). An event no tenant owns is a dead letter.
import { type Client } from '@temporalio/client';
import Stripe from 'stripe';
import { type DataSource, type EntityManager } from 'typeorm';
import { tenantIdByStripeCustomer } from '../../db/tenants';
import { type RouteResult, storeAndRoute } from '../../db/webhookEvents';
import { ApiError } from '../../lib/errors';
import { CREDIT_PACKS, isPackKey, planOfPrice, type PlanKey, type PriceIds } from '../../lib/plans';
import { type StripeEventJson } from '../../lib/stripeTestEvents';
import { BILLING, type BillingEvent, type BillingInput, billingWorkflowId, stripeEventSignal, type SubscriptionStatus } from '../../workflows/billing.contract';
import { tenantSearchAttributes } from '../tenantWorkflows';

export const STRIPE_TOLERANCE_SECONDS = 300;

export interface StripeRoutingDeps {
  client: Client;
  taskQueue: string;
  prices: PriceIds;
}

/**
 * The `t=` of a Stripe-Signature header, read the way the SDK reads it (the
 * last `t=` wins), so the instant checked here is the one that was signed.
 */
function signedAt(signature: string): number {
  let t = Number.NaN;
  for (const item of signature.split(',')) {
    const [k, v] = item.split('=');
    if (k === 't') t = parseInt(v ?? '', 10);
  }
  return t;
}

/**
 * Verifies a delivery the way Stripe documents it; anything wrong is 400 and
 * nothing is stored. The SDK only refuses a signature older than the
 * tolerance; one dated further ahead than the same tolerance is refused here
 * too, so a leaked signature cannot be pre-dated to stay valid for longer.
 */
export function verifyStripeDelivery(raw: string, signature: string | undefined, secret: string, now = Date.now()): StripeEventJson {
  const refused = () =>
    new ApiError(
      400,
      'invalid_signature',
      `the Stripe-Signature header does not match the body, or its timestamp is more than ${STRIPE_TOLERANCE_SECONDS} s from now`,
    );
  let event: StripeEventJson;
  try {
    event = Stripe.webhooks.constructEvent(raw, signature ?? '', secret, STRIPE_TOLERANCE_SECONDS, undefined, now) as unknown as StripeEventJson;
  } catch {
    throw refused();
  }
  const t = signedAt(signature ?? '');
  if (!Number.isFinite(t) || t * 1000 > now + STRIPE_TOLERANCE_SECONDS * 1000) throw refused();
  return event;
}

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const ms = (v: unknown) => (num(v) === undefined ? null : num(v)! * 1000);
const firstItem = (o: Obj) => ((o.items as { data?: Obj[] } | undefined)?.data ?? [])[0] ?? {};
const STATUSES: Record<string, SubscriptionStatus> = {
  trialing: 'trialing',
  active: 'active',
  past_due: 'past_due',
  unpaid: 'unpaid',
  canceled: 'canceled',
  incomplete_expired: 'canceled',
};

/** The Stripe customer an event is about (a string id, or an expanded object's id). */
export function eventCustomer(event: StripeEventJson): string | undefined {
  const c = event.data.object.customer;
  return str(c) ?? str((c as Obj | null | undefined)?.id);
}

/**
 * The plan an invoice charges for: the last of its charged lines whose price
 * is a plan's (a proration invoice credits the old plan and charges the new
 * one), or null when none is. Older API versions name the line's price in
 * `price` (or `plan`), newer ones in `pricing.price_details.price`.
 */
function invoicePlan(o: Obj, prices: PriceIds): PlanKey | null {
  let plan: PlanKey | null = null;
  for (const line of (o.lines as { data?: Obj[] } | undefined)?.data ?? []) {
    if (typeof line.amount === 'number' && line.amount < 0) continue;
    const price = line.price as Obj | string | undefined;
    const details = (line.pricing as Obj | undefined)?.price_details as Obj | undefined;
    const id = str(price) ?? str((price as Obj | undefined)?.id) ?? str(details?.price) ?? str((line.plan as Obj | undefined)?.id);
    plan = planOfPrice(prices, id) ?? plan;
  }
  return plan;
}

/** The event as the lifecycle sees it, or undefined for events it does not act on. */
export function toBillingEvent(event: StripeEventJson, prices: PriceIds): BillingEvent | undefined {
  const o = event.data.object;
  const base = { id: event.id, created: event.created * 1000 };
  switch (event.type) {
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const item = firstItem(o);
      const plan = planOfPrice(prices, str((item.price as Obj | undefined)?.id));
      const status = event.type === 'customer.subscription.deleted' ? 'canceled' : STATUSES[str(o.status) ?? ''];
      if (!plan || !status || !str(o.id)) return undefined;
      return {
        ...base,
        type: 'subscription',
        subscriptionId: str(o.id)!,
        status,
        plan,
        // Newer API versions carry the period on the item.
        periodStart: ms(o.current_period_start ?? item.current_period_start),
        periodEnd: ms(o.current_period_end ?? item.current_period_end),
        trialEnd: ms(o.trial_end),
      };
    }
    case 'invoice.paid': {
      const line = ((o.lines as { data?: Obj[] } | undefined)?.data ?? [])[0];
      const periodEnd = ms((line?.period as Obj | undefined)?.end ?? o.period_end);
      return { ...base, type: 'invoice_paid', subscriptionId: str(o.subscription) ?? null, periodEnd, plan: invoicePlan(o, prices) };
    }
    case 'invoice.payment_failed':
      return { ...base, type: 'invoice_failed', subscriptionId: str(o.subscription) ?? null };
    // A delayed payment method completes the session unpaid and succeeds later
    // in a second event about the same session: the grant is keyed by the
    // session (activities/billing.ts), so either one credits it, once.
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded': {
      const pack = (o.metadata as Obj | undefined)?.pack;
      // A pack's sends come from our config, never from the payload's amount.
      if (str(o.mode) !== 'payment' || !isPackKey(pack) || str(o.payment_status) !== 'paid' || !str(o.id)) return undefined;
      return { ...base, type: 'credit_pack', sessionId: str(o.id)!, pack, sends: CREDIT_PACKS[pack].sends };
    }
    default:
      return undefined;
  }
}

/** Routes one platform event inside the transaction that holds its webhook_events row. */
export async function routeStripeEvent(m: EntityManager, deps: StripeRoutingDeps, event: StripeEventJson): Promise<RouteResult> {
  const customer = eventCustomer(event);
  if (!customer) return { status: 'dead_letter', error: 'the event names no Stripe customer' };
  const tenant = await tenantIdByStripeCustomer(m, customer);
  if (!tenant) return { status: 'dead_letter', error: 'no tenant has this Stripe customer' };
  const billingEvent = toBillingEvent(event, deps.prices);
  if (!billingEvent) return { status: 'processed', tenantId: tenant.id };
  // Signalled before the commit: if Temporal cannot take it, the row rolls back and Stripe's retry comes again.
  await deps.client.workflow.signalWithStart(BILLING, {
    workflowId: billingWorkflowId(tenant.id),
    taskQueue: deps.taskQueue,
    args: [{ tenantId: tenant.id, start: { plan: 'free' } } satisfies BillingInput],
    signal: stripeEventSignal,
    signalArgs: [billingEvent],
    typedSearchAttributes: tenantSearchAttributes(tenant.id),
  });
  return { status: 'processed', tenantId: tenant.id };
}

export type EventRouter = (m: EntityManager, event: StripeEventJson) => Promise<RouteResult>;

/** Stores a verified event and routes it in one transaction; a delivery seen before does nothing. */
export function receiveStripeEvent(ds: DataSource, source: 'stripe' | 'stripe-connect', event: StripeEventJson, route: EventRouter) {
  return storeAndRoute(ds, { source, eventId: event.id, type: event.type, payload: event }, (m) => route(m, event));
}
