// The enrollment's pure rules: what a send records on the row with its
// acceptance (when a first wait ends is part of the contract, since starting
// an enrollment uses it). They read the clock only as given.
import { type EnrollmentPlan, type RecordAfterSend } from './enrollLead.contract';

const HOUR = 3_600_000;

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

/**
 * Where an enrollment goes on in a plan loaded again (another sequence
 * version): the index of the first step at or after `position` that has not
 * been sent, or the plan's length when none is left (the enrollment completes).
 */
export function resumeIndex(plan: Pick<EnrollmentPlan, 'steps' | 'sentSteps'>, position: number): number {
  const i = plan.steps.findIndex((s) => s.position >= position && !plan.sentSteps.includes(s.position));
  return i < 0 ? plan.steps.length : i;
}
