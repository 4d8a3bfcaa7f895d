// The enrollment's pure rules: when a first wait ends, and what a send
// records on the row with its acceptance. The workflow (workflows/enrollLead.ts)
// and the fan-out's batch use them; they read the clock only as given.
import { type EnrollmentPlan, type FirstWait, type RecordAfterSend } from './enrollLead.contract';

const HOUR = 3_600_000;

/** When a first wait ends (epoch ms): the batch's time plus the first step's delay. */
export const firstWaitEnds = (w: FirstWait) => w.from + w.delayHours * HOUR;

/**
 * What a send of `plan.steps[i]` at `at` writes with its acceptance: the next
 * unsent step and its due time (counted from the send's start), or the
 * completion after the last step. A next step due at once is not recorded as
 * "next send: now" (nothing then).
 */
export function afterSend(plan: Pick<EnrollmentPlan, 'steps' | 'sentSteps'>, i: number, at: number): RecordAfterSend | undefined {
  const next = plan.steps.slice(i + 1).find((s) => !plan.sentSteps.includes(s.position));
  if (!next) return { state: 'completed', step: plan.steps[i]!.position, nextSendAt: null };
  return next.delayHours > 0 ? { state: 'active', step: next.position, nextSendAt: at + next.delayHours * HOUR } : undefined;
}
