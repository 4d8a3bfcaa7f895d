// The tenant's own billing (docs/operations.md, "Billing"): what it has (plan, status, period,
// entitlements, usage, credits) and the Stripe pages that change it —
// Checkout for a plan or a credit pack, and the billing portal. Every Stripe
// call that creates something carries a deterministic Idempotency-Key
// (tenant, purpose, and the hour it was asked in), so a retried request gets
// the same session instead of a second one.
import { callStripe, idempotencyHour, requireStripe } from '../../lib/stripe';
import type Stripe from 'stripe';
import { billingSubscription, billingSubscriptionId, type BillingAccountRow, getBillingAccount } from '../../db/billingAccounts';
import { listEntitlements } from '../../db/entitlements';
import { usagePeriod } from '../../db/sendQuota';
import { setStripeCustomerIfUnset, tenantStripeCustomer } from '../../db/tenants';
import { ApiError } from '../../lib/errors';
import { CREDIT_PACKS, type PackKey, PLANS, type PlanKey, type PriceIds } from '../../lib/plans';
import { invoiceObject, localId, packCheckoutObject, signedDelivery, stripeEvent, subscriptionObject } from '../../lib/stripeTestEvents';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { limitUsage } from '../../db/entitlements';

export interface BillingDeps {
  stripe?: Stripe;
  prices: PriceIds;
  consoleUrl: string;
  /** Local test mode (no Stripe keys): checkout is the console's local page. */
  localMode: boolean;
  /** The platform endpoint's signing secret (local mode signs its events with it). */
  webhookSecret?: string;
}

/** Plan, status, period, entitlements, usage this period and credit balance. */
export async function getBilling(a: TenantAccess, deps: Pick<BillingDeps, 'localMode'>) {
  const m = a.manager;
  const row = await getBillingAccount(m);
  const acct: BillingAccountRow = row ?? {
    plan: 'free',
    status: 'none',
    entitled_plan: 'free',
    restricted: false,
    trial_ends_at: null,
    period_start: null,
    period_end: null,
    paid_through: null,
    past_due_since: null,
    credit_balance: 0,
    usage_period_start: null,
    period_sends: 0,
  };
  const period = usagePeriod(acct, Date.now());
  const ents = await listEntitlements(m);
  const sendLimit = ents.find((e) => e.key === 'monthly_sends');
  const usage = async (key: 'inboxes' | 'seats' | 'campaigns') => limitUsage(m, key);
  return {
    plan: acct.plan,
    status: acct.status,
    entitledPlan: acct.entitled_plan,
    restricted: acct.restricted,
    trialEndsAt: acct.trial_ends_at,
    currentPeriod: { start: new Date(period.start), end: new Date(period.end) },
    paidThrough: acct.paid_through,
    pastDueSince: acct.past_due_since,
    entitlements: ents.map((e) => ({ key: e.key, enabled: e.enabled, limit: e.limit_value })),
    usage: {
      sends: {
        used: acct.usage_period_start?.getTime() === period.start ? acct.period_sends : 0,
        limit: sendLimit ? (sendLimit.enabled ? sendLimit.limit_value : 0) : null,
      },
      inboxes: await usage('inboxes'),
      seats: await usage('seats'),
      campaigns: await usage('campaigns'),
    },
    creditBalance: acct.credit_balance,
    plans: Object.values(PLANS).map((p) => ({ key: p.key, name: p.name, monthlyCents: p.monthlyCents, limits: p.limits })),
    packs: Object.values(CREDIT_PACKS).map((p) => ({ key: p.key, name: p.name, sends: p.sends, cents: p.cents })),
    localMode: deps.localMode,
  };
}

/** The tenant's Stripe customer: the one provisioning recorded, or created now under the same idempotency key. */
async function stripeCustomer(a: TenantAccess, deps: BillingDeps): Promise<string> {
  const t = await tenantStripeCustomer(a.manager, a.tenantId);
  if (t?.stripe_customer_id) return t.stripe_customer_id;
  const stripe = requireStripe(deps.stripe);
  const customer = await callStripe(() =>
    stripe.customers.create(
      { name: t?.name, email: t?.owner_email ?? undefined, metadata: { tenant_id: a.tenantId } },
      { idempotencyKey: `tenant/${a.tenantId}/provision/stripe-customer` },
    ),
  );
  // Should the request roll back, the next one gets the same customer (same key).
  await setStripeCustomerIfUnset(a.manager, a.tenantId, customer.id);
  return customer.id;
}

/** Subscription statuses in which the tenant already subscribes: a change of plan updates that subscription. */
const LIVE_STATUSES = ['trialing', 'active', 'past_due', 'unpaid'];

/**
 * A Checkout Session for a paid plan (or, in local mode, the console's local
 * checkout page). A tenant that already subscribes never gets a second
 * subscription from a new checkout: its change of plan is a pending update
 * of the subscription it has (changePlan), applied only once paid
 * (docs/security.md).
 */
export async function startPlanCheckout(a: TenantAccess, deps: BillingDeps, plan: Exclude<PlanKey, 'free'>) {
  const stripe = requireStripe(deps.stripe);
  const customer = await stripeCustomer(a, deps);
  const acct = await billingSubscription(a.manager);
  if (acct?.stripe_subscription_id && LIVE_STATUSES.includes(acct.status)) {
    if (acct.plan === plan) throw new ApiError(409, 'plan_unchanged', `the subscription is already on ${PLANS[plan].name}`);
    return changePlan(a, deps, stripe, acct.stripe_subscription_id, plan);
  }
  const session = await callStripe(() =>
    stripe.checkout.sessions.create(
      {
        mode: 'subscription',
        customer,
        client_reference_id: a.tenantId,
        line_items: [{ price: deps.prices[plan], quantity: 1 }],
        metadata: { tenant_id: a.tenantId, plan },
        subscription_data: { metadata: { tenant_id: a.tenantId } },
        success_url: `${deps.consoleUrl}/accounting/billing?checkout=done`,
        cancel_url: `${deps.consoleUrl}/accounting/billing?checkout=canceled`,
      },
      { idempotencyKey: `tenant/${a.tenantId}/billing/checkout/${plan}/${idempotencyHour()}` },
    ),
  );
  await auditBy(a, { action: 'billing.checkout_started', outcome: 'success', targetType: 'billing', targetId: a.tenantId, details: { plan } });
  return { url: deps.localMode ? `${deps.consoleUrl}/accounting/billing/local-checkout?plan=${plan}` : session.url!, sessionId: session.id };
}

/**
 * Moves the tenant's one subscription to `plan` as a pending update: Stripe
 * invoices the change at once (always_invoice) and applies it only if that
 * invoice is paid (pending_if_incomplete), so the subscription never shows a
 * plan nobody paid for. An invoice that needs the customer (a declined card,
 * 3-D Secure) is paid on Stripe's hosted invoice page, where the answer's URL
 * leads; otherwise back to the billing page (docs/security.md).
 */
async function changePlan(a: TenantAccess, deps: BillingDeps, stripe: Stripe, subscriptionId: string, plan: Exclude<PlanKey, 'free'>) {
  // Local checkout updates the subscription the tenant has (localCheckoutDeliveries below).
  const change = deps.localMode
    ? { url: `${deps.consoleUrl}/accounting/billing/local-checkout?plan=${plan}`, sessionId: `local_${subscriptionId}` }
    : await pendingUpdate(a, deps, stripe, subscriptionId, plan);
  await auditBy(a, { action: 'billing.plan_change_started', outcome: 'success', targetType: 'billing', targetId: a.tenantId, details: { plan } });
  return change;
}

async function pendingUpdate(a: TenantAccess, deps: BillingDeps, stripe: Stripe, subscriptionId: string, plan: Exclude<PlanKey, 'free'>) {
  const subscription = await callStripe(() => stripe.subscriptions.retrieve(subscriptionId));
  const item = subscription.items.data[0];
  if (!item) throw new ApiError(409, 'subscription_without_items', 'the subscription has no item to change; use the billing portal');
  const updated = await callStripe(() =>
    stripe.subscriptions.update(
      subscriptionId,
      {
        items: [{ id: item.id, price: deps.prices[plan], quantity: 1 }],
        proration_behavior: 'always_invoice',
        payment_behavior: 'pending_if_incomplete',
        expand: ['latest_invoice'],
      },
      { idempotencyKey: `tenant/${a.tenantId}/billing/plan-change/${plan}/${idempotencyHour()}` },
    ),
  );
  const invoice = typeof updated.latest_invoice === 'object' ? updated.latest_invoice : null;
  const hosted = invoice?.status === 'open' ? invoice.hosted_invoice_url : null;
  return { url: hosted || `${deps.consoleUrl}/accounting/billing?checkout=done`, sessionId: updated.id };
}

/** A Checkout Session for a credit pack (a one-time price). */
export async function startPackCheckout(a: TenantAccess, deps: BillingDeps, pack: PackKey) {
  const stripe = requireStripe(deps.stripe);
  const customer = await stripeCustomer(a, deps);
  const session = await callStripe(() =>
    stripe.checkout.sessions.create(
      {
        mode: 'payment',
        customer,
        client_reference_id: a.tenantId,
        line_items: [{ price: deps.prices[pack], quantity: 1 }],
        metadata: { tenant_id: a.tenantId, pack },
        success_url: `${deps.consoleUrl}/accounting/billing?checkout=done`,
        cancel_url: `${deps.consoleUrl}/accounting/billing?checkout=canceled`,
      },
      { idempotencyKey: `tenant/${a.tenantId}/billing/credit-pack/${pack}/${idempotencyHour()}` },
    ),
  );
  await auditBy(a, { action: 'billing.checkout_started', outcome: 'success', targetType: 'billing', targetId: a.tenantId, details: { pack } });
  return { url: deps.localMode ? `${deps.consoleUrl}/accounting/billing/local-checkout?pack=${pack}` : session.url!, sessionId: session.id };
}

/** The Stripe billing portal (payment method, invoices, cancel). */
export async function openPortal(a: TenantAccess, deps: BillingDeps) {
  const stripe = requireStripe(deps.stripe);
  const customer = await stripeCustomer(a, deps);
  const session = await callStripe(() =>
    stripe.billingPortal.sessions.create(
      { customer, return_url: `${deps.consoleUrl}/accounting/billing` },
      { idempotencyKey: `tenant/${a.tenantId}/billing/portal/${idempotencyHour()}` },
    ),
  );
  return { url: deps.localMode ? `${deps.consoleUrl}/accounting/billing?portal=local` : session.url };
}

/**
 * Local test mode only: what Stripe would post after a paid checkout, signed
 * with the local webhook secret, for the caller to deliver to the real
 * webhook endpoint.
 */
export async function localCheckoutDeliveries(a: TenantAccess, deps: BillingDeps, what: { plan?: Exclude<PlanKey, 'free'>; pack?: PackKey }) {
  if (!deps.localMode || !deps.webhookSecret) throw new ApiError(404, 'not_found', 'local checkout is only available in billing’s local test mode');
  const customer = await stripeCustomer(a, deps);
  const now = Date.now();
  const events = [];
  if (what.pack) {
    const pack = CREDIT_PACKS[what.pack];
    events.push(stripeEvent('checkout.session.completed', packCheckoutObject({ customer, tenantId: a.tenantId, pack: pack.key, amount: pack.cents })));
  } else if (what.plan) {
    const row = await billingSubscriptionId(a.manager);
    const subscriptionId = row?.stripe_subscription_id ?? localId('sub');
    const end = now + 30 * 86_400_000;
    const sub = subscriptionObject({ customer, subscriptionId, status: 'active', plan: what.plan, prices: deps.prices, periodStart: now, periodEnd: end });
    events.push(stripeEvent(row?.stripe_subscription_id ? 'customer.subscription.updated' : 'customer.subscription.created', sub));
    events.push(
      stripeEvent(
        'invoice.paid',
        invoiceObject({
          customer,
          subscriptionId,
          periodStart: now,
          periodEnd: end,
          amount: PLANS[what.plan].monthlyCents,
          price: deps.prices[what.plan],
        }),
      ),
    );
  }
  return events.map((e) => signedDelivery(e, deps.webhookSecret!));
}
