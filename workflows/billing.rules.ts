// The subscription state machine of the billing workflow, as pure rules:
// the state a tenant starts in, how a Stripe event changes it, what the clock
// makes of it (entitlements, the end of a trial, restriction after the grace)
// and when it next changes by itself. Dunning (reminders and the grace
// period) is in dunning.rules.ts.
import { type BillingRules } from '../lib/plans';
import { type BillingEvent, type BillingStart, type BillingState, type SubscriptionStatus } from './billing.contract';
import { dunningDeadlines, graceEnded } from './dunning.rules';

const DAY = 86_400_000;

export function initialState(start: BillingStart | undefined, now: number): BillingState {
  const trial = start?.trialDays && start.plan !== 'free' ? now + start.trialDays * DAY : null;
  // A template trial is free to try: its plan is entitled, and counts as paid, until it ends.
  const granted = trial ? (start?.plan ?? 'free') : 'free';
  return {
    plan: start?.plan ?? 'free',
    status: trial ? 'trialing' : 'none',
    subscriptionId: null,
    trialEndsAt: trial,
    periodStart: trial ? now : null,
    periodEnd: trial,
    paidThrough: trial,
    pastDueSince: null,
    reminded: [],
    restricted: false,
    entitledPlan: granted,
    paidPlan: granted,
    statusEventAt: 0,
    eventsApplied: 0,
    eventsIgnored: 0,
    creditEvents: 0,
  };
}

/** Whether the event is about a subscription other than the one the workflow follows. */
function foreign(s: BillingState, e: Exclude<BillingEvent, { type: 'credit_pack' }>): boolean {
  if (e.type === 'subscription') return s.subscriptionId !== null && s.status !== 'canceled' && e.subscriptionId !== s.subscriptionId;
  // An invoice moves the status only when it bills the followed subscription.
  return s.subscriptionId === null || e.subscriptionId !== s.subscriptionId;
}

/**
 * Applies one subscription or invoice event; an event older than the status
 * already applied is ignored. The workflow follows one subscription: while it
 * is live, an event about another subscription of the same customer (a second
 * one, or a stale one) is ignored, and an invoice counts only when it is the
 * followed one's.
 */
export function applyEvent(s: BillingState, e: BillingEvent, now: number): BillingState {
  if (e.type === 'credit_pack') return { ...s, creditEvents: s.creditEvents + 1 };
  if (e.created < s.statusEventAt) return { ...s, eventsIgnored: s.eventsIgnored + 1 };
  if (foreign(s, e)) return { ...s, eventsIgnored: s.eventsIgnored + 1 };
  const next: BillingState = { ...s, statusEventAt: e.created, eventsApplied: s.eventsApplied + 1 };
  if (e.type === 'subscription') {
    // A subscription starts active (or trialing) only once its first payment
    // is taken (or its trial is free). A change of plan on the subscription
    // is not a payment: Stripe may apply it first and invoice later, so the
    // new plan counts as paid when an invoice for it is (below).
    const started = next.subscriptionId !== e.subscriptionId;
    next.subscriptionId = e.subscriptionId;
    next.plan = e.plan;
    if (started && (e.status === 'active' || e.status === 'trialing')) next.paidPlan = e.plan;
    next.periodStart = e.periodStart;
    next.periodEnd = e.periodEnd;
    next.trialEndsAt = e.trialEnd;
    setStatus(next, e.status, now);
    // Stripe reports active (or trialing) only for a period that is paid for (or free to try).
    if ((e.status === 'active' || e.status === 'trialing') && e.periodEnd) next.paidThrough = Math.max(next.paidThrough ?? 0, e.periodEnd);
  } else if (e.type === 'invoice_paid') {
    if (e.periodEnd) next.paidThrough = Math.max(next.paidThrough ?? 0, e.periodEnd);
    // What the invoice charged for is paid: a Starter invoice paid while an
    // unpaid Pro upgrade is open entitles Starter, not Pro.
    next.paidPlan = e.plan === undefined ? next.plan : (e.plan ?? next.paidPlan);
    if (next.status === 'past_due' || next.status === 'unpaid' || next.status === 'none') setStatus(next, 'active', now);
  } else {
    if (next.status !== 'canceled') setStatus(next, 'past_due', now);
  }
  return next;
}

function setStatus(s: BillingState, status: SubscriptionStatus, now: number): void {
  if (status === 'past_due' || status === 'unpaid') s.pastDueSince ??= now;
  else {
    s.pastDueSince = null;
    s.reminded = [];
  }
  s.status = status;
}

/**
 * Entitlements at `now`: a paid period is never revoked; after it, an unpaid
 * tenant past its grace is restricted. A plan is entitled while its
 * subscription is current (active, or in its trial); otherwise, while a paid
 * period runs, the plan that was paid for (docs/security.md, "paid, not
 * asked") — never a plan asked for and not paid.
 */
export function settle(s: BillingState, rules: BillingRules, now: number): BillingState {
  const next = { ...s };
  if (next.status === 'trialing' && !next.subscriptionId && next.trialEndsAt !== null && now >= next.trialEndsAt) {
    // A trial from the template ended without a subscription: back to free.
    next.status = 'none';
    next.plan = 'free';
    next.paidPlan = 'free';
  }
  const paid = next.paidThrough !== null && now < next.paidThrough;
  const current = next.status === 'active' || (next.status === 'trialing' && (next.trialEndsAt === null || now < next.trialEndsAt));
  next.entitledPlan = current || paid ? next.paidPlan : 'free';
  const graceOver = graceEnded(next, rules, now);
  if (graceOver && next.status === 'past_due') next.status = 'unpaid';
  next.restricted = (next.status === 'unpaid' || next.status === 'past_due') && graceOver && !paid;
  return next;
}

/** The next instant at which the state changes by itself (trial end, a reminder, grace end, paid period end). */
export function nextDeadline(s: BillingState, rules: BillingRules, now: number): number | undefined {
  const at: number[] = [];
  if (s.status === 'trialing' && s.trialEndsAt !== null) at.push(s.trialEndsAt);
  at.push(...dunningDeadlines(s, rules));
  if (s.paidThrough !== null) at.push(s.paidThrough);
  const future = at.filter((t) => t > now);
  return future.length ? Math.min(...future) : undefined;
}
