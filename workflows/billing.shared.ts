// The billing workflow's contract (spec §5.5): its input, the Stripe events it
// is driven by (already verified, routed and reduced to what the lifecycle
// needs — ids, instants and plan keys, no payment details), its state and
// query, and the pure rules of the subscription state machine. The webhook
// service, the activities and the tests import it from here.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { type BillingRules, type PackKey, type PlanKey } from '../lib/plans';

export const BILLING = 'billing';
export const billingWorkflowId = (tenantId: string) => `tenant/${tenantId}/billing`;

export type SubscriptionStatus = 'none' | 'trialing' | 'active' | 'past_due' | 'unpaid' | 'canceled';

/** How a new tenant starts (from its industry template): on a plan, optionally as a trial of it. */
export interface BillingStart {
  plan: PlanKey;
  trialDays?: number;
}

/** A Stripe event as the lifecycle sees it. Instants are epoch milliseconds. */
export type BillingEvent =
  | {
      id: string;
      created: number;
      type: 'subscription';
      subscriptionId: string;
      status: SubscriptionStatus;
      plan: PlanKey;
      periodStart: number | null;
      periodEnd: number | null;
      trialEnd: number | null;
    }
  | {
      id: string;
      created: number;
      type: 'invoice_paid';
      subscriptionId: string | null;
      periodEnd: number | null;
      /** The plan the invoice charged for (null: none of its lines is a plan; absent in events signalled before it was carried). */
      plan?: PlanKey | null;
    }
  | { id: string; created: number; type: 'invoice_failed'; subscriptionId: string | null }
  /** A paid Checkout Session for a pack (`sessionId` is absent only in events signalled before it was carried). */
  | { id: string; created: number; type: 'credit_pack'; sessionId?: string; pack: PackKey; sends: number };

export interface BillingState {
  plan: PlanKey;
  status: SubscriptionStatus;
  subscriptionId: string | null;
  trialEndsAt: number | null;
  periodStart: number | null;
  periodEnd: number | null;
  /** The end of the last period that was paid for (or the trial): its entitlements stay until then. */
  paidThrough: number | null;
  pastDueSince: number | null;
  /** Dunning days already reminded in this past_due spell. */
  reminded: number[];
  restricted: boolean;
  /** The plan whose limits apply now. */
  entitledPlan: PlanKey;
  /** The plan of the last period that was paid for (or the trial): what a tenant keeps while a later change of plan is unpaid. */
  paidPlan: PlanKey;
  /** `created` of the newest event that set the status: an older one never overwrites it. */
  statusEventAt: number;
  eventsApplied: number;
  eventsIgnored: number;
  creditEvents: number;
}

export interface BillingInput {
  tenantId: string;
  start?: BillingStart;
  rules?: BillingRules;
  /** Carried over by continue-as-new. */
  state?: BillingState;
  /** Continue as new past this many history events (default 2,000; tests lower it). */
  historyLimit?: number;
}

export const stripeEventSignal = defineSignal<[BillingEvent]>('stripeEvent');
export const stateQuery = defineQuery<BillingState>('state');

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
  const graceOver = next.pastDueSince !== null && now >= next.pastDueSince + rules.graceDays * DAY;
  if (graceOver && next.status === 'past_due') next.status = 'unpaid';
  next.restricted = (next.status === 'unpaid' || next.status === 'past_due') && graceOver && !paid;
  return next;
}

/** The dunning days due by `now` and not yet reminded. */
export function dueReminders(s: BillingState, rules: BillingRules, now: number): number[] {
  if (s.pastDueSince === null || (s.status !== 'past_due' && s.status !== 'unpaid')) return [];
  return rules.dunningDays.filter((d) => !s.reminded.includes(d) && now >= s.pastDueSince! + d * DAY);
}

/** The next instant at which the state changes by itself (trial end, a reminder, grace end, paid period end). */
export function nextDeadline(s: BillingState, rules: BillingRules, now: number): number | undefined {
  const at: number[] = [];
  if (s.status === 'trialing' && s.trialEndsAt !== null) at.push(s.trialEndsAt);
  if (s.pastDueSince !== null && (s.status === 'past_due' || s.status === 'unpaid')) {
    for (const d of rules.dunningDays) if (!s.reminded.includes(d)) at.push(s.pastDueSince + d * DAY);
    at.push(s.pastDueSince + rules.graceDays * DAY);
  }
  if (s.paidThrough !== null) at.push(s.paidThrough);
  const future = at.filter((t) => t > now);
  return future.length ? Math.min(...future) : undefined;
}
