// billing (spec §5.5): a tenant's subscription lifecycle, one long-lived
// workflow per tenant (`tenant/{id}/billing`).
//
//   none → trialing → active → past_due → active | unpaid | canceled
//
// Stripe events arrive as signals (verified and deduplicated by the webhook
// first). The workflow's own timers end a template trial, remind the owner on
// the dunning days of a past_due spell, end the grace period, and end a paid
// period — which is never revoked before it ends. After every change the
// account row and the plan's entitlements are written, and enrollments that
// were waiting for sends are told to try again.
import { condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_BILLING_RULES } from '../lib/plans';
import {
  applyEvent,
  type BillingEvent,
  type BillingInput,
  type BillingState,
  dueReminders,
  type LifecycleRules,
  initialState,
  nextDeadline,
  settle,
  stateQuery,
  stripeEventSignal,
} from './billing.shared';

export * from './billing.shared';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Continue as new well before the history grows large (or when the server suggests it). */
const HISTORY_LIMIT = 2_000;

/**
 * Patches: one follows a single subscription; the other entitles the plan
 * paid for, not the one asked for. They are asked at every turn of the loop,
 * not once at the start: a run that began before them replays its history
 * with the old rules (no marker there) and takes the new ones from its first
 * turn after the deployment, which a billing run, waiting weeks between
 * events and rarely continuing as new, must not wait for.
 */
export const FOLLOW_ONE_SUBSCRIPTION_PATCH = 'billing-follows-one-subscription';
export const ENTITLE_PAID_PLAN_PATCH = 'billing-entitles-paid-plan';

export async function billing(input: BillingInput): Promise<void> {
  const rules = input.rules ?? DEFAULT_BILLING_RULES;
  const { tenantId } = input;
  let state: BillingState = input.state ?? initialState(input.start, Date.now());
  const inbox: BillingEvent[] = [];
  setHandler(stripeEventSignal, (e) => void inbox.push(e));
  setHandler(stateQuery, () => state);

  let applied: BillingState | undefined = input.state;
  let paidRuleOn = false;
  for (let turn = 0; ; turn++) {
    const lifecycle: LifecycleRules = {
      followOneSubscription: patched(FOLLOW_ONE_SUBSCRIPTION_PATCH),
      entitlePaidPlan: patched(ENTITLE_PAID_PLAN_PATCH),
    };
    // A run that takes the paid-plan rule after turns made without it (or
    // continues one that never had it) has paid for what it was entitled to:
    // its paidPlan, never kept up under the old rules, starts from there.
    if (lifecycle.entitlePaidPlan && !paidRuleOn) {
      if (turn > 0 || state.paidPlan === undefined) state = { ...state, paidPlan: state.entitledPlan };
      paidRuleOn = true;
    }
    // Events first, then whatever the clock has made due.
    let release = false;
    while (inbox.length) {
      const e = inbox.shift()!;
      if (e.type === 'credit_pack') {
        const { granted } = await acts.grantCredits({ tenantId, eventId: e.id, sessionId: e.sessionId, pack: e.pack, sends: e.sends });
        release ||= granted;
      }
      state = applyEvent(state, e, Date.now(), lifecycle);
    }
    state = settle(state, rules, Date.now(), lifecycle);
    for (const day of dueReminders(state, rules, Date.now())) {
      await acts.sendDunningReminder({ tenantId, pastDueSince: state.pastDueSince!, day, graceDays: rules.graceDays });
      state = { ...state, reminded: [...state.reminded, day] };
    }
    if (!applied || changed(applied, state)) {
      await acts.applyBillingState({ tenantId, state });
      // A new period, an upgrade or the end of a restriction may release waiting sends.
      release ||= !state.restricted;
    }
    applied = state;
    if (release) await acts.releaseQuotaWaiters({ tenantId });

    if (inbox.length === 0 && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.historyLimit ?? HISTORY_LIMIT))) {
      await continueAsNew<typeof billing>({ tenantId, rules, state, historyLimit: input.historyLimit });
    }
    const deadline = nextDeadline(state, rules, Date.now());
    await condition(() => inbox.length > 0, deadline === undefined ? undefined : deadline - Date.now());
  }
}

/** Whether what the account row and entitlements show has changed. */
function changed(a: BillingState, b: BillingState): boolean {
  const keys: (keyof BillingState)[] = [
    'plan',
    'status',
    'entitledPlan',
    'restricted',
    'trialEndsAt',
    'periodStart',
    'periodEnd',
    'paidThrough',
    'pastDueSince',
    'subscriptionId',
  ];
  return keys.some((k) => a[k] !== b[k]);
}
