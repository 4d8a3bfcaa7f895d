// enrollLead: one lead going through one campaign's pinned
// sequence version. For each step: wait for the step's delay, then for the
// next open send window in the campaign's timezone, take a slot from the
// inbox's daily cap (a full day rolls over to the next day's window), render
// and send exactly once, record the message. Pause and resume hold the clock;
// reply, bounce, unsubscribe and archive end the enrollment. When the
// tenant's monthly sends are used up (or it is restricted), the send waits for
// the billing workflow's release signal or the next usage period. Moved to
// another sequence version (the sequenceChanged signal), it loads its plan
// again at its next wait and goes on from the step it waited for; a send
// that finds the row on another version than its plan (the signal was lost)
// sends nothing and answers replan, which does the same.
//
// History holds ids, instants and counts only — the plan's step delays and
// the send outcome — never an address, subject or body.
import { condition, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nextDaysWindow, nextOpenWindow } from '../lib/schedule';
import {
  archiveSignal,
  bounceSignal,
  ENDED_ENROLLMENT_STATUSES,
  ENROLLMENT_MISSING,
  NO_INBOX,
  SEND_REJECTED,
  type EnrollLeadInput,
  type EnrollmentRef,
  type EnrollmentState,
  type EnrollmentStatus,
  firstWaitEnds,
  pauseSignal,
  quotaReleasedSignal,
  type RecordAfterSend,
  replySignal,
  resumeSignal,
  sequenceChangedSignal,
  statusQuery,
  type StopNotice,
  unsubscribeSignal,
} from './enrollLead.contract';
import { afterSend, resumeIndex } from './enrollLead.rules';
import { PROVIDER_NOT_CONFIGURED } from './provisionEmailOutreach.contract';

export * from './enrollLead.contract';

// The short database steps (load the plan, mirror the state) are idempotent,
// so they run as local activities: inside the workflow task, without a server
// round trip each. Retries that back off longer than 10 s wait on a workflow
// timer rather than inside the workflow task, so a long wait (a row whose
// fan-out batch has not moved it yet: `enrollment_not_started`) neither holds
// a task slot nor a shutdown.
const LOCAL_RETRY_THRESHOLD = '10 seconds';
const { loadEnrollment, recordEnrollmentState } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '1 minute', nonRetryableErrorTypes: [ENROLLMENT_MISSING, NO_INBOX] },
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
});

// A send is one local activity that takes the slot and sends: a one-step send
// is then one workflow task and no activity task. It is as safe to repeat as
// an activity — the message is recorded before the SMTP call, and an attempt
// that finds its own unfinished record does not send again — and a worker that
// dies mid-send loses its workflow task, so the next worker replays and
// repeats the local activity, which reconciles. A retry that backs off longer
// than 10 s (a provider that is down) waits on a workflow timer, visible in the
// history. A send also writes, with its acceptance, what the workflow would
// record next (`then`: the next step's due time, or the completion after the
// last step), so that record is not a local activity of its own.
const { reserveAndSendStep } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '5 minutes', nonRetryableErrorTypes: [ENROLLMENT_MISSING, NO_INBOX, SEND_REJECTED, PROVIDER_NOT_CONFIGURED] },
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
});

type StopReason = 'replied' | 'bounced' | 'unsubscribed' | 'archived';

export async function enrollLead(input: EnrollLeadInput): Promise<EnrollmentStatus> {
  let paused = false;
  let stopped: StopReason | undefined;
  const status: EnrollmentStatus = { state: 'waiting', step: 1, nextSendAt: null, sent: 0 };
  const ref: EnrollmentRef = { tenantId: input.tenantId, enrollmentId: input.enrollmentId };

  setHandler(pauseSignal, () => void (paused = true));
  setHandler(resumeSignal, () => void (paused = false));
  let released = false;
  setHandler(quotaReleasedSignal, () => void (released = true));
  // Whether the stop that ended it was already written on the row by its sender (StopNotice).
  let stopRecorded = false;
  const stop = (reason: StopReason) => (notice?: StopNotice) => {
    if (stopped !== undefined) return;
    stopped = reason;
    stopRecorded = notice?.recorded === true;
  };
  setHandler(unsubscribeSignal, stop('unsubscribed'));
  setHandler(replySignal, stop('replied'));
  setHandler(bounceSignal, stop('bounced'));
  setHandler(archiveSignal, stop('archived'));
  // The row pins another sequence version: the plan is loaded again at the next wait.
  let planChanged = false;
  setHandler(sequenceChangedSignal, () => void (planChanged = true));
  setHandler(statusQuery, () => ({ ...status, state: stopped ?? (paused && status.state !== 'completed' ? 'paused' : status.state) }));

  const record = (state: EnrollmentState, nextSendAt: number | null) => recordEnrollmentState({ ...ref, state, step: status.step, nextSendAt });

  /** Sleeps until `until` (or stop, or a changed plan); while paused the clock is held and the pause recorded. */
  async function waitUntil(until: number): Promise<void> {
    while (!stopped) {
      if (paused) {
        await record('paused', null);
        await condition(() => !paused || stopped !== undefined);
        if (!stopped) await record('active', until);
        continue;
      }
      if (planChanged) return;
      const ms = until - Date.now();
      if (ms <= 0) return;
      status.nextSendAt = new Date(until).toISOString();
      await condition(() => paused || stopped !== undefined || planChanged, ms);
    }
  }

  // What the last send wrote on the row (RecordAfterSend), so the workflow need not.
  let recordedBySend: RecordAfterSend | undefined;

  /** Ends the enrollment: the final state, recorded on the row unless the row already has it. */
  async function finish(): Promise<EnrollmentStatus> {
    const final: EnrollmentState = stopped ?? 'completed';
    status.state = final;
    status.nextSendAt = null;
    const onRow = stopped ? stopRecorded : recordedBySend?.state === 'completed';
    if (!onRow) await record(final, null);
    return { ...status };
  }

  // An enrollment the fan-out starts with a first step that waits sleeps first
  // and loads its plan when the wait ends: the fan-out's batch has recorded
  // the next send itself and delays the start until then, so the wait here is
  // usually over; it still holds an enrollment that a signal-with-start woke
  // early (a pause, say).
  const { firstWait } = input;
  if (firstWait) {
    await waitUntil(firstWaitEnds(firstWait));
    if (stopped) return finish();
  }

  // A change signalled before this load is in the plan it loads.
  planChanged = false;
  let plan = await loadEnrollment(ref);
  if ((ENDED_ENROLLMENT_STATUSES as readonly string[]).includes(plan.status)) {
    return { ...status, state: plan.status as EnrollmentState };
  }
  if (plan.campaignStatus === 'paused' || plan.status === 'paused') paused = true;
  status.sent = plan.sentSteps.length;

  // The first step's delay counts from the fan-out's batch when it was waited for above.
  let last = firstWait?.from ?? Date.now();
  let i = 0;
  while (i < plan.steps.length && !stopped) {
    const step = plan.steps[i]!;
    status.step = step.position;
    if (plan.sentSteps.includes(step.position)) {
      i += 1;
      continue;
    }
    // The previous send wrote this step's due time on the row, counted from the send's start.
    const recordedDue = recordedBySend?.state === 'active' ? recordedBySend.nextSendAt : undefined;
    recordedBySend = undefined;
    let due = recordedDue ?? last + step.delayHours * 3_600_000;
    // A step due at once is not first recorded as "next send: now".
    if (due > Date.now() && recordedDue === undefined) await record('active', due);

    let replanned = false;
    /**
     * Another sequence version: go on from this step in the plan loaded
     * again, its delay counted from the previous send as before. Answers the
     * row's ended status, if it has one.
     */
    const replan = async (): Promise<EnrollmentState | undefined> => {
      planChanged = false;
      plan = await loadEnrollment(ref);
      if ((ENDED_ENROLLMENT_STATUSES as readonly string[]).includes(plan.status)) return plan.status as EnrollmentState;
      status.sent = plan.sentSteps.length;
      recordedBySend = undefined;
      i = resumeIndex(plan, step.position);
      replanned = true;
      return undefined;
    };
    for (;;) {
      // The step's delay, then the send window, then a slot of the daily cap.
      await waitUntil(due);
      if (stopped) break;
      if (planChanged) {
        const ended = await replan();
        if (ended) return { ...status, state: ended, nextSendAt: null };
        break;
      }
      const open = nextOpenWindow(Date.now(), plan.schedule);
      if (open > Date.now()) {
        due = open;
        await record('active', open);
        continue;
      }
      status.state = 'sending';
      released = false;
      const at = Date.now();
      const then = afterSend(plan, i, at);
      const { sequenceVersion } = plan;
      const result = await reserveAndSendStep({
        ...ref,
        step: step.position,
        at,
        ...(then ? { then } : {}),
        ...(sequenceVersion !== undefined ? { sequenceVersion } : {}),
      });
      if (result.outcome === 'replan') {
        // The row was moved to another version and its signal has not come
        // (lost with the request that moved it, say): nothing was sent or
        // taken, so load the plan as the signal would have.
        status.state = 'waiting';
        const ended = await replan();
        if (ended) return { ...status, state: ended, nextSendAt: null };
        break;
      }
      if (result.outcome === 'not_granted' && result.waitingFor) {
        // The plan's sends are used up (or the tenant is restricted): wait for
        // the billing workflow's release, or for the next usage period.
        status.state = 'waiting';
        status.waitingFor = result.waitingFor;
        const ms = result.retryAt ? result.retryAt - Date.now() : undefined;
        await condition(() => released || stopped !== undefined, ms !== undefined ? Math.max(ms, 1) : undefined);
        status.waitingFor = undefined;
        continue;
      }
      if (result.outcome === 'not_granted') {
        status.state = 'waiting';
        due = nextDaysWindow(Date.now(), plan.schedule);
        await record('active', due);
        continue;
      }
      status.state = 'waiting';
      if (result.outcome === 'render_error') {
        // Nothing was sent: wait for someone to fix the lead and resume.
        paused = true;
        await waitUntil(Date.now());
        continue;
      }
      if (result.outcome === 'suppressed') stopped ??= 'unsubscribed';
      if (result.outcome === 'not_active') stopped ??= 'archived';
      if (result.outcome === 'sent' || result.outcome === 'already_sent' || result.outcome === 'uncertain') status.sent += 1;
      if (result.outcome === 'sent' && result.recorded) recordedBySend = then;
      break;
    }
    if (replanned) continue;
    last = Date.now();
    status.nextSendAt = null;
    i += 1;
  }
  return finish();
}
