// A tenant's billing account: the row the billing workflow writes (plan,
// status, entitled plan, restriction, period, subscription, credit balance),
// the credit packs granted to it (once per Checkout Session) and the dunning
// reminders mailed to its owner (once per day of a past_due spell). All run in
// the tenant's transaction (RLS); the send quota's lock and booking of the
// same row are db/sendQuota.ts.
import { type EntityManager } from 'typeorm';
import { type PlanKey } from '../lib/plans';

export interface BillingAccountRow {
  plan: PlanKey;
  status: string;
  entitled_plan: PlanKey;
  restricted: boolean;
  trial_ends_at: Date | null;
  period_start: Date | null;
  period_end: Date | null;
  paid_through: Date | null;
  past_due_since: Date | null;
  credit_balance: number;
  usage_period_start: Date | null;
  period_sends: number;
}

/** The tenant's account row, or undefined before the billing workflow first wrote it. */
export async function getBillingAccount(m: EntityManager): Promise<BillingAccountRow | undefined> {
  const [row] = (await m.query('SELECT * FROM billing_accounts')) as BillingAccountRow[];
  return row;
}

/** The plan and status of the tenant's subscription, and its Stripe id. */
export async function billingSubscription(m: EntityManager): Promise<{ plan: PlanKey; status: string; stripe_subscription_id: string | null } | undefined> {
  const [acct] = (await m.query('SELECT plan, status, stripe_subscription_id FROM billing_accounts')) as {
    plan: PlanKey;
    status: string;
    stripe_subscription_id: string | null;
  }[];
  return acct;
}

/** The Stripe id of the tenant's subscription (a row without one answers null, no row undefined). */
export async function billingSubscriptionId(m: EntityManager): Promise<{ stripe_subscription_id: string | null } | undefined> {
  const [row] = (await m.query('SELECT stripe_subscription_id FROM billing_accounts')) as { stripe_subscription_id: string | null }[];
  return row;
}

/** What the audit of a change compares: plan, status, entitled plan and restriction as recorded now. */
export async function billingStateOf(m: EntityManager): Promise<{ plan: string; status: string; entitled_plan: string; restricted: boolean } | undefined> {
  const [before] = (await m.query('SELECT plan, status, entitled_plan, restricted FROM billing_accounts')) as {
    plan: string;
    status: string;
    entitled_plan: string;
    restricted: boolean;
  }[];
  return before;
}

export interface BillingAccountState {
  plan: string;
  status: string;
  entitledPlan: string;
  restricted: boolean;
  trialEndsAt: Date | null;
  periodStart: Date | null;
  periodEnd: Date | null;
  paidThrough: Date | null;
  pastDueSince: Date | null;
  subscriptionId: string | null;
}

/** Writes the lifecycle's state on the (locked, existing) account row. */
export async function writeBillingState(m: EntityManager, s: BillingAccountState): Promise<void> {
  await m.query(
    `UPDATE billing_accounts SET plan = $1, status = $2, entitled_plan = $3, restricted = $4, trial_ends_at = $5, period_start = $6, period_end = $7,
                  paid_through = $8, past_due_since = $9, stripe_subscription_id = $10, updated_at = now()`,
    [s.plan, s.status, s.entitledPlan, s.restricted, s.trialEndsAt, s.periodStart, s.periodEnd, s.paidThrough, s.pastDueSince, s.subscriptionId],
  );
}

export interface NewCreditGrant {
  id: string;
  eventId: string;
  sessionId: string | null;
  pack: string;
  sends: number;
}

/** Records a pack's grant; false when its Checkout Session (or event) was granted before. */
export async function insertCreditGrant(m: EntityManager, g: NewCreditGrant): Promise<boolean> {
  const inserted = (await m.query(
    `INSERT INTO credit_grants (tenant_id, id, event_id, checkout_session_id, pack, sends)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING id`,
    [g.id, g.eventId, g.sessionId, g.pack, g.sends],
  )) as unknown[];
  return inserted.length > 0;
}

/** Adds sends to the account's credit balance. */
export async function addCredits(m: EntityManager, sends: number): Promise<void> {
  await m.query('UPDATE billing_accounts SET credit_balance = credit_balance + $1, updated_at = now()', [sends]);
}

/** Records the reminder of one dunning day; false when that day's reminder of the spell was recorded before. */
export async function insertBillingReminder(m: EntityManager, r: { pastDueSince: Date; day: number; sentTo: string }): Promise<boolean> {
  const inserted = (await m.query(
    `INSERT INTO billing_reminders (tenant_id, past_due_since, day, sent_to) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING day`,
    [r.pastDueSince, r.day, r.sentTo],
  )) as unknown[];
  return inserted.length > 0;
}
