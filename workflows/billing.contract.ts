// The billing workflow's contract: its input, the Stripe events it is driven
// by (already verified, routed and reduced to what the lifecycle needs — ids,
// instants and plan keys, no payment details), its state and query. The
// webhook service, the activities and the tests import it from here; the
// subscription state machine is in billing.rules.ts, dunning in
// dunning.rules.ts.
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
