// billing: a tenant's subscription lifecycle, one long-lived
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
import { condition, continueAsNew, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { DEFAULT_BILLING_RULES } from '../lib/plans';
import { type BillingEvent, type BillingInput, type BillingState, stateQuery, stripeEventSignal } from './billing.contract';
import { applyEvent, initialState, nextDeadline, settle } from './billing.rules';
import { dueReminders } from './dunning.rules';

export * from './billing.contract';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Continue as new well before the history grows large (or when the server suggests it). */
const HISTORY_LIMIT = 2_000;

export async function billing(input: BillingInput): Promise<void> {
  const rules = input.rules ?? DEFAULT_BILLING_RULES;
  const { tenantId } = input;
  let state: BillingState = input.state ?? initialState(input.start, Date.now());
  const inbox: BillingEvent[] = [];
  setHandler(stripeEventSignal, (e) => void inbox.push(e));
  setHandler(stateQuery, () => state);

  let applied: BillingState | undefined = input.state;
  for (;;) {
    // Events first, then whatever the clock has made due.
    let release = false;
    while (inbox.length) {
      const e = inbox.shift()!;
      if (e.type === 'credit_pack') {
        const { granted } = await acts.grantCredits({ tenantId, eventId: e.id, sessionId: e.sessionId, pack: e.pack, sends: e.sends });
        release ||= granted;
      }
      state = applyEvent(state, e, Date.now());
    }
    state = settle(state, rules, Date.now());
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
