// Dunning, as pure rules: a past_due spell reminds the owner on the dunning
// days (BillingRules.dunningDays, counted from when the spell began) and
// ends its grace after BillingRules.graceDays; after that an unpaid tenant
// whose paid period is over is restricted (billing.rules.ts, settle). The
// billing workflow sends each reminder once (sendDunningReminder).
import { type BillingRules } from '../lib/plans';
import { type BillingState } from './billing.contract';

const DAY = 86_400_000;

const inSpell = (s: BillingState) => s.pastDueSince !== null && (s.status === 'past_due' || s.status === 'unpaid');

/** The dunning days due by `now` and not yet reminded. */
export function dueReminders(s: BillingState, rules: BillingRules, now: number): number[] {
  if (!inSpell(s)) return [];
  return rules.dunningDays.filter((d) => !s.reminded.includes(d) && now >= s.pastDueSince! + d * DAY);
}

/** Whether the grace of a past_due spell is over at `now`. */
export const graceEnded = (s: BillingState, rules: BillingRules, now: number) => s.pastDueSince !== null && now >= s.pastDueSince + rules.graceDays * DAY;

/** The instants at which the spell next changes by itself: each dunning day not yet reminded, and the grace's end. */
export function dunningDeadlines(s: BillingState, rules: BillingRules): number[] {
  if (!inSpell(s)) return [];
  const at = rules.dunningDays.filter((d) => !s.reminded.includes(d)).map((d) => s.pastDueSince! + d * DAY);
  return [...at, s.pastDueSince! + rules.graceDays * DAY];
}
