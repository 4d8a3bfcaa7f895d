// automationRun: one run of an automation (docs/automations.md, "Runs"). It
// reads its run row, with the definition of the run's own version, and
// interprets the steps in order. It holds ids, the definition and flags only:
// the trigger's payload and the lead stay in the database, so a condition
// (the filter, `branch`) is evaluated by an activity that reads them and
// answers a boolean (docs/architecture.md: no personal data in history);
// every write is an activity keyed by the step's path; `wait` is a timer and
// `wait_for` a signal or a timer, the run `waiting` (holding no concurrency
// slot) meanwhile; waking, it goes back to the queue and on once admitted. A
// message is recorded by an activity and sent by the manual send path, the
// child workflow `sendMessage`, so it goes out at most once; `uncertain` is
// recorded as such. A rerun skips what the failed run completed (its rows
// copied as `skipped`); a dry run records what each action would do and
// writes nothing. Cancelling the workflow ends the run `canceled`; a run
// whose row is gone (its automation deleted) ends quietly.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { LoadedRun, StepError, StepRef } from '../activities/automationRun';
import { COUNTED_ACTIONS, durationMs, type Step } from '../lib/automations';
import {
  AUTOMATION_RUN_GONE,
  automationAdmittedSignal,
  type AutomationEvent,
  automationEventSignal,
  type AutomationRunInput,
  type AutomationRunOutcome,
  type AutomationRunProgress,
  automationRunProgressQuery,
  WEBHOOK_HTTP_ERROR,
  WEBHOOK_REFUSED_ADDRESS,
} from './automationRun.contract';
import { messageWorkflowId } from './ids';
import { TenantIdSearchAttribute } from './searchAttributes';
import { SEND_MESSAGE, type SendMessageInput } from './sendMessage.contract';
import type { SendMessageResult } from './sendMessage';

export * from './automationRun.contract';

// The run's own activities read and write its rows: a database outage is
// waited out (retried for as long as it lasts), a step never half-done.
const run = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: { maximumInterval: '1 minute' } });

const { automationNotify } = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: { maximumInterval: '1 minute', maximumAttempts: 10 } });

// A webhook call is retried a bounded number of times; a refused address or a 4xx answer fails the step at once.
const { automationWebhookCall } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 3, maximumAttempts: 4, nonRetryableErrorTypes: [WEBHOOK_REFUSED_ADDRESS, WEBHOOK_HTTP_ERROR] },
});

type Loaded = Extract<LoadedRun, { found: true }>;

/** How often a run back in the queue asks its row whether it was admitted, in case the admitter's signal was lost. */
const ADMISSION_CHECK = '10 minutes';

/** An activity found the run's row gone (its automation deleted) or ended outside the workflow: nothing is left to write. */
const runGone = (err: unknown) => err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === AUTOMATION_RUN_GONE;

/** A step failed: the run ends failed with this error. */
class StepFailed extends Error {
  constructor(
    readonly step: string,
    readonly error: StepError,
  ) {
    super(error.message);
  }
}

const BRANCHES = { wait_for: { event: 'onEvent', timeout: 'onTimeout' }, branch: { then: 'then', else: 'else' } } as const;

export async function automationRun(input: AutomationRunInput): Promise<AutomationRunOutcome> {
  const progress: AutomationRunProgress = { status: 'running' };
  setHandler(automationRunProgressQuery, () => progress);
  // Events the dispatcher sent; a wait_for takes the first one that matches and has not been taken.
  const events: AutomationEvent[] = [];
  const taken = new Set<string>();
  setHandler(automationEventSignal, (e) => void events.push(e));
  // Set by an admitter when the run, back in the queue after a wait, is running again.
  const admission = { admitted: false };
  setHandler(automationAdmittedSignal, () => void (admission.admitted = true));

  const ref = { tenantId: input.tenantId, automationId: input.automationId, runId: input.runId };
  const finish = (status: 'completed' | 'failed' | 'canceled', error?: StepError & { step?: string }) =>
    run.finishAutomationRun({ ...ref, status, ...(error ? { error } : {}) });

  try {
    const loaded = await run.loadAutomationRun({ tenantId: input.tenantId, runId: input.runId });
    // A row gone (no status) is an automation deleted: as if canceled.
    if (!loaded.found) return loaded.status === 'completed' || loaded.status === 'failed' ? { status: 'completed' } : { status: 'canceled' };
    const { definition } = loaded;

    // A run by `execute` runs whatever the filter says: the caller chose to run it.
    if (
      definition.filter &&
      !loaded.manual &&
      !(await run.evaluateAutomationCondition({ tenantId: input.tenantId, runId: input.runId, condition: definition.filter }))
    ) {
      await finish('completed', { code: 'filtered', message: 'the filter did not match: no step ran' });
      progress.status = 'completed';
      return { status: 'completed' };
    }

    let ordinal = 0;
    const interpreter = { loaded, events, taken, admission, progress, nextOrdinal: () => ++ordinal };
    try {
      await runSteps(interpreter, ref, definition.steps, '');
    } catch (err) {
      if (!(err instanceof StepFailed)) throw err;
      await finish('failed', { ...err.error, step: err.step });
      progress.status = 'failed';
      return { status: 'failed', step: err.step, error: err.error };
    }
    await finish('completed');
    progress.status = 'completed';
    return { status: 'completed' };
  } catch (err) {
    // The automation was deleted (its runs with it), or the row ended outside the workflow: there is nothing to record.
    if (runGone(err)) {
      progress.status = 'canceled';
      return { status: 'canceled' };
    }
    if (!isCancellation(err)) throw err;
    await CancellationScope.nonCancellable(() => finish('canceled', { code: 'canceled', message: 'the run was canceled', step: progress.step }));
    progress.status = 'canceled';
    throw err;
  }
}

interface Interpreter {
  loaded: Loaded;
  events: AutomationEvent[];
  taken: Set<string>;
  admission: { admitted: boolean };
  progress: AutomationRunProgress;
  nextOrdinal(): number;
}

type RunRef = { tenantId: string; automationId: string; runId: string };

/**
 * Ends a wait: the step's outcome recorded and the run back in the queue;
 * it goes on when admitted — at once when a slot is free, else when an
 * admitter signals it, or when its row says so (a lost signal).
 */
async function wake(it: Interpreter, ref: RunRef, path: string, output: Record<string, unknown>): Promise<void> {
  it.admission.admitted = false;
  const { admitted } = await run.endAutomationWait({ ...ref, path, output });
  if (!admitted) {
    it.progress.status = 'queued';
    while (!(await condition(() => it.admission.admitted, ADMISSION_CHECK)) && !(await run.automationRunAdmitted(ref))) {
      // Still queued: wait for the admitter's signal again.
    }
  }
  it.progress.status = 'running';
}

async function runSteps(it: Interpreter, ref: RunRef, steps: Step[], prefix: string): Promise<void> {
  for (const [i, step] of steps.entries()) await runStep(it, ref, step, `${prefix}${i}`);
}

/** The inner list a `branch` or `wait_for` goes on with, by the branch it took (`then`, `else`, `event`, `timeout`). */
async function runBranch(it: Interpreter, ref: RunRef, step: Step, path: string, branch: string): Promise<void> {
  const key = (BRANCHES as Record<string, Record<string, string>>)[step.type]?.[branch];
  const inner = key ? ((step as unknown as Record<string, Step[]>)[key] ?? []) : [];
  await runSteps(it, ref, inner, `${path}.${branch}.`);
}

async function runStep(it: Interpreter, ref: RunRef, step: Step, path: string): Promise<void> {
  const s: StepRef = { ...ref, path, ordinal: it.nextOrdinal(), type: step.type };
  it.progress.step = path;
  const dryRun = it.loaded.dryRun;

  // A rerun: what the failed run completed is not done again; a branch or wait_for goes the way it went.
  if (Object.hasOwn(it.loaded.skipped, path)) {
    const { branch } = it.loaded.skipped[path] ?? {};
    if (step.type === 'branch' || step.type === 'wait_for') await runBranch(it, ref, step, path, String(branch));
    return;
  }

  const failed = async (error: StepError): Promise<never> => {
    await run.recordAutomationStep({ ...s, status: 'failed', error });
    throw new StepFailed(path, error);
  };
  const leadId = it.loaded.leadId;
  const needsLead = ['send_message', 'add_tag', 'remove_tag', 'set_stage', 'enroll_in_campaign', 'wait_for'].includes(step.type);
  // A dry run without a lead (a test run from the builder) still shows what each step would do.
  if (needsLead && !leadId && !dryRun) await failed({ code: 'no_lead', message: 'this run has no lead for the step to act on' });

  switch (step.type) {
    case 'branch': {
      // Over the lead as it is now, the run's own tag and stage changes included.
      const branch = (await run.evaluateAutomationCondition({ tenantId: ref.tenantId, runId: ref.runId, condition: step.condition })) ? 'then' : 'else';
      await run.recordAutomationStep({ ...s, status: 'completed', output: { branch } });
      await runBranch(it, ref, step, path, branch);
      return;
    }
    case 'wait': {
      if (dryRun) {
        await run.recordAutomationStep({ ...s, status: 'completed', output: { dryRun: true, would: { wait: step.duration } } });
        return;
      }
      await run.beginAutomationWait(s);
      it.progress.status = 'waiting';
      await sleep(durationMs(step.duration));
      await wake(it, ref, path, { waited: step.duration });
      return;
    }
    case 'wait_for': {
      if (dryRun) {
        await run.recordAutomationStep({
          ...s,
          status: 'completed',
          output: { dryRun: true, would: { waitFor: step.event, timeout: step.timeout }, branch: 'timeout' },
        });
        await runBranch(it, ref, step, path, 'timeout');
        return;
      }
      const since = it.loaded.since;
      const waitFor = { event: step.event, leadId: leadId!, since };
      // An event a `wait_for` took before (a signal sent twice, or one for an earlier wait) is never taken again.
      const found = await run.beginAutomationWait({ ...s, waitFor: { ...waitFor, taken: [...it.taken] } });
      const matches = (e: AutomationEvent) => e.type === step.event && e.leadId === leadId && !it.taken.has(e.eventId) && e.occurredAt >= since;
      let event = found.event;
      if (event) {
        // Already in the stream: the run never stopped running.
        it.taken.add(event.eventId);
        await run.endAutomationStep({ ...ref, path, status: 'completed', output: { branch: 'event', eventId: event.eventId } });
        await runBranch(it, ref, step, path, 'event');
        return;
      }
      it.progress.status = 'waiting';
      await condition(() => it.events.some(matches), durationMs(step.timeout));
      // The dispatcher signals only runs already marked waiting, after its commit: an event that committed while
      // the run entered the wait, or a lost signal, is found by asking the stream once more before the timeout wins.
      event = it.events.find(matches) ?? (await run.findAutomationEvent({ tenantId: ref.tenantId, runId: ref.runId, ...waitFor, taken: [...it.taken] })).event;
      if (event) it.taken.add(event.eventId);
      const branch = event ? 'event' : 'timeout';
      await wake(it, ref, path, { branch, ...(event ? { eventId: event.eventId } : {}) });
      await runBranch(it, ref, step, path, branch);
      return;
    }
    default:
      break;
  }

  // An action. A dry run records what it would do and does nothing.
  if (dryRun) {
    const { type: _type, ...would } = step as Step & Record<string, unknown>;
    await run.recordAutomationStep({ ...s, status: 'completed', output: { dryRun: true, would: { ...would, ...(leadId ? { leadId } : {}) } } });
    return;
  }
  if (COUNTED_ACTIONS.includes(step.type)) await takeAction(ref.tenantId);

  switch (step.type) {
    case 'send_message': {
      const prepared = await run.prepareAutomationMessage({ ...s, inboxId: step.inboxId, subject: step.subject, text: step.text });
      if (!prepared.ok) throw new StepFailed(path, prepared.error);
      const send: SendMessageInput = { tenantId: ref.tenantId, messageId: prepared.messageId, reply: false };
      // The send outlives a canceled run: the message is recorded, and its own workflow sends it (or not) exactly
      // once. Its start is not cancellable, so a cancel landing with the prepared message never leaves it unsent.
      const child = await CancellationScope.nonCancellable(() =>
        startChild<(i: SendMessageInput) => Promise<SendMessageResult>>(SEND_MESSAGE, {
          workflowId: messageWorkflowId(send),
          args: [send],
          typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: ref.tenantId }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          cancellationType: ChildWorkflowCancellationType.ABANDON,
        }),
      );
      const result = await child.result();
      const output = { messageId: prepared.messageId, outcome: result.outcome };
      // `uncertain`: the provider may or may not have taken it; never sent again, never counted as sent.
      if (result.outcome === 'sent' || result.outcome === 'already_sent' || result.outcome === 'uncertain') {
        await run.endAutomationStep({ ...ref, path, status: 'completed', output });
        return;
      }
      const error = SEND_FAILURES[result.outcome];
      await run.endAutomationStep({ ...ref, path, status: 'failed', output, error });
      throw new StepFailed(path, error);
    }
    case 'add_tag':
    case 'remove_tag':
    case 'set_stage': {
      const r = await run.automationLeadChange(
        step.type === 'set_stage' ? { ...s, type: 'set_stage', stage: step.stage } : { ...s, type: step.type, tag: step.tag },
      );
      if (!r.ok) throw new StepFailed(path, r.error);
      return;
    }
    case 'enroll_in_campaign': {
      const r = await run.automationEnroll({ ...s, campaignId: step.campaignId });
      if (!r.ok) throw new StepFailed(path, r.error);
      return;
    }
    case 'notify':
    case 'webhook_call': {
      await run.beginAutomationStep(s);
      let output: Record<string, unknown>;
      try {
        output =
          step.type === 'notify'
            ? { ...(await automationNotify({ ...ref, path, to: step.to, title: step.title, body: step.body, email: step.email })) }
            : // No run data: the activity reads the run's trigger and lead itself, so they stay out of history.
              { ...(await automationWebhookCall({ ...ref, path, url: step.url, body: step.body, timeoutSeconds: step.timeoutSeconds })) };
      } catch (err) {
        if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
        const cause = err.cause;
        const error = {
          code: cause instanceof ApplicationFailure && cause.type ? cause.type : `${step.type}_failed`,
          message: cause?.message ?? err.message,
        };
        await run.endAutomationStep({ ...ref, path, status: 'failed', error });
        throw new StepFailed(path, error);
      }
      await run.endAutomationStep({ ...ref, path, status: 'completed', output });
      return;
    }
  }
}

const SEND_FAILURES: Record<'suppressed' | 'gone' | 'failed' | 'not_recorded', StepError> = {
  suppressed: { code: 'address_suppressed', message: 'the lead’s address is on the suppression list (it unsubscribed or bounced): nothing was sent' },
  gone: { code: 'message_gone', message: 'the message, its lead or its inbox is gone: nothing was sent' },
  failed: { code: 'send_failed', message: 'the provider refused the message or is not configured: see the message' },
  not_recorded: { code: 'message_not_recorded', message: 'the message was not recorded: nothing was sent' },
};

/** One of the tenant's counted actions: a refused take waits as long as the limiter says and asks again, never dropped. */
async function takeAction(tenantId: string): Promise<void> {
  for (;;) {
    const r = await run.takeAutomationAction({ tenantId });
    if (r.allowed) return;
    await sleep(Math.max(r.retryAfterMs, 1000));
  }
}
