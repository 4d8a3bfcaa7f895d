// enrollLead on its own: the time-skipping test server and the real workflow
// code, with the activities replaced by in-memory fakes that record
// every call. No database, no SMTP: each case runs in a second or two and
// reads as the behaviour it pins (delays, send window, the daily cap's
// roll-over, pause holding the clock, stops, a render error pausing, a
// restarted enrollment skipping what it already sent).
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { type Activities } from '../activities';
import { type SendOutcome } from '../activities/enrollLead';
import { type SendSchedule } from '../lib/schedule';
import { createTimeSkippingEnv, projectWorkflowBundle, uniqueTaskQueue } from '../test/helpers/temporal';
import { until } from '../test/helpers/processes';
import {
  archiveSignal,
  ENROLL_LEAD,
  type EnrollLeadInput,
  type EnrollmentPlan,
  type EnrollmentState,
  type EnrollmentStatus,
  pauseSignal,
  replySignal,
  resumeSignal,
  sequenceChangedSignal,
  type SlotDecision,
  statusQuery,
  type StopNotice,
} from './enrollLead.contract';
import { sendIfGranted } from './sendQuota.rules';

const HOUR = 3_600_000;
const ALWAYS: SendSchedule = { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
const TENANT = '01900000-0000-7000-8000-000000000001';

interface Fake {
  plan: EnrollmentPlan;
  /** Answers of the slot, in order (then granted). */
  slots: boolean[];
  /** Answers of the send, in order (then sent). */
  outcomes: SendOutcome['outcome'][];
  sends: { step: number; at: number }[];
  reservations: number[];
  /** What was written on the row, in order: by recordEnrollmentState, or by a send with its acceptance (`then`). */
  records: { state: EnrollmentState; step: number; nextSendAt: number | null }[];
  /** How many of those writes were recordEnrollmentState's (a local activity of their own). */
  recordCalls: number;
  /** How often the plan was loaded. */
  loads: number;
  /** The sequence version each send was asked for, in order (replans included). */
  sendVersions: (number | undefined)[];
}

function fakeActivities(f: Fake): Partial<Activities> {
  const reserveSendSlot = async ({ at }: { at: number }): Promise<SlotDecision> => {
    f.reservations.push(at);
    return { granted: f.slots.shift() ?? true };
  };
  const sendStep = async ({ step, scheduledAt }: { step: number; scheduledAt: number }): Promise<SendOutcome> => {
    const outcome = f.outcomes.shift() ?? 'sent';
    if (outcome === 'sent') f.sends.push({ step, at: scheduledAt });
    return (outcome === 'render_error' ? { outcome, missing: ['firstName'] } : { outcome }) as SendOutcome;
  };
  return {
    loadEnrollment: async () => {
      f.loads += 1;
      return f.plan;
    },
    // The send takes the slot and sends, as the two fakes do,
    // and a send that is made writes its `then` on the row, as the real one does.
    reserveAndSendStep: async (input) => {
      f.sendVersions.push(input.sequenceVersion);
      // The row pins the version of the plan a load would answer, as the real row does.
      if (input.sequenceVersion !== undefined && input.sequenceVersion !== f.plan.sequenceVersion) return { outcome: 'replan' };
      const result = await sendIfGranted(
        () => reserveSendSlot(input),
        () => sendStep({ ...input, scheduledAt: input.at }),
      );
      if (result.outcome !== 'sent' || !input.then) return result;
      f.records.push(input.then);
      return { outcome: 'sent', recorded: true };
    },
    recordEnrollmentState: async ({ state, step, nextSendAt }) => {
      f.records.push({ state, step, nextSendAt });
      f.recordCalls += 1;
    },
  };
}

let env: TestWorkflowEnvironment;
let bundle: Awaited<ReturnType<typeof projectWorkflowBundle>>;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  bundle = await projectWorkflowBundle();
});

afterAll(async () => {
  await env?.teardown();
});

function fake(plan: Partial<EnrollmentPlan> = {}, more: Partial<Fake> = {}): Fake {
  return {
    plan: { status: 'active', campaignStatus: 'active', schedule: ALWAYS, steps: [{ position: 1, delayHours: 0 }], sentSteps: [], ...plan },
    slots: [],
    outcomes: [],
    sends: [],
    reservations: [],
    records: [],
    recordCalls: 0,
    loads: 0,
    sendVersions: [],
    ...more,
  };
}

/** Runs one enrollment against the fakes; `during` acts on the running workflow before its result is awaited. */
async function run(
  f: Fake,
  during?: (handle: Awaited<ReturnType<typeof env.client.workflow.start>>) => Promise<void>,
  input: Partial<EnrollLeadInput> = {},
): Promise<EnrollmentStatus> {
  const taskQueue = uniqueTaskQueue('enroll-unit');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: bundle,
    activities: fakeActivities(f),
  });
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(ENROLL_LEAD, {
      taskQueue,
      workflowId: `tenant/${TENANT}/campaign/cmp_unit/lead/${Math.random().toString(36).slice(2)}`,
      args: [{ tenantId: TENANT, enrollmentId: 'enr_unit', ...input }],
    });
    if (during) await during(handle);
    return (await handle.result()) as EnrollmentStatus;
  });
}

it('sends each step after its delay, measured from the previous send, and completes', async () => {
  const f = fake({
    steps: [
      { position: 1, delayHours: 0 },
      { position: 2, delayHours: 48 },
      { position: 3, delayHours: 24 },
    ],
  });
  const result = await run(f);
  expect(result).toMatchObject({ state: 'completed', sent: 3, step: 3, nextSendAt: null });
  expect(f.sends.map((s) => s.step)).toEqual([1, 2, 3]);
  expect(f.sends[1]!.at - f.sends[0]!.at).toBeGreaterThanOrEqual(48 * HOUR);
  expect(f.sends[1]!.at - f.sends[0]!.at).toBeLessThan(49 * HOUR);
  expect(f.sends[2]!.at - f.sends[1]!.at).toBeGreaterThanOrEqual(24 * HOUR);
  // Each send wrote what comes next with its acceptance — the next step's due
  // time counted from the send, then the completion — so the workflow itself
  // recorded nothing: no local activity besides the load and the sends.
  expect(f.records).toEqual([
    { state: 'active', step: 2, nextSendAt: f.sends[0]!.at + 48 * HOUR },
    { state: 'active', step: 3, nextSendAt: f.sends[1]!.at + 24 * HOUR },
    { state: 'completed', step: 3, nextSendAt: null },
  ]);
  expect(f.recordCalls).toBe(0);
});

it('a step due at once is sent by a local activity that takes the slot and sends: no activity task, no "next send: now" recorded first', async () => {
  const f = fake();
  let history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> | undefined;
  const result = await run(f, async (handle) => {
    await handle.result();
    history = await handle.fetchHistory();
  });
  expect(result).toMatchObject({ state: 'completed', sent: 1 });
  expect(f.sends).toHaveLength(1);
  const events = history!.events ?? [];
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes)).toEqual([]);
  // Local activities leave markers: the load and the send, which also wrote the completion.
  expect(events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(2);
  expect(f.records).toEqual([{ state: 'completed', step: 1, nextSendAt: null }]);
  expect(f.recordCalls).toBe(0);
});

it('a send that does not write the next step (a retry that found it already accepted) leaves the record to the workflow', async () => {
  const f = fake(
    {
      steps: [
        { position: 1, delayHours: 0 },
        { position: 2, delayHours: 24 },
      ],
    },
    { outcomes: ['already_sent'] },
  );
  expect(await run(f)).toMatchObject({ state: 'completed', sent: 2 });
  expect(f.records.map((r) => [r.state, r.step])).toEqual([
    ['active', 2],
    ['completed', 2],
  ]);
  // The next step's record was the workflow's own; the completion came with the second send.
  expect(f.recordCalls).toBe(1);
});

it('waits for the send window before taking a slot', async () => {
  // A window of one hour a day: whenever the test starts, the send lands inside it.
  const f = fake({ schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '09:00', end: '10:00' } });
  const result = await run(f);
  expect(result.state).toBe('completed');
  expect(f.sends).toHaveLength(1);
  expect(new Date(f.sends[0]!.at).getUTCHours()).toBe(9);
  expect(f.reservations.every((at) => new Date(at).getUTCHours() === 9)).toBe(true);
});

it('a full daily cap rolls the send to the next day’s window instead of failing', async () => {
  const f = fake({ schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '09:00', end: '17:00' } }, { slots: [false] });
  const result = await run(f);
  expect(result).toMatchObject({ state: 'completed', sent: 1 });
  expect(f.reservations).toHaveLength(2);
  const [denied, granted] = f.reservations as [number, number];
  expect(new Date(granted).toISOString().slice(0, 10) > new Date(denied).toISOString().slice(0, 10)).toBe(true);
  expect(new Date(granted).getUTCHours()).toBe(9);
  expect(f.sends[0]!.at - granted).toBeLessThan(60_000);
});

it('pause holds the clock (recorded as paused) and resume goes on to send', async () => {
  const f = fake({ steps: [{ position: 1, delayHours: 24 }] });
  const result = await run(f, async (handle) => {
    await until('the delay is recorded', async () => f.records.some((r) => r.state === 'active'));
    await handle.signal(pauseSignal);
    await until('the pause is recorded', async () => f.records.some((r) => r.state === 'paused'));
    expect((await handle.query(statusQuery)).state).toBe('paused');
    expect(f.sends).toEqual([]);
    await handle.signal(resumeSignal);
  });
  expect(result).toMatchObject({ state: 'completed', sent: 1 });
  expect(f.records.map((r) => r.state)).toEqual(['active', 'paused', 'active', 'completed']);
});

/** A two-step enrollment replied to while it waits for step 2 (with the signal's `notice`, if any): it ends at once, and nothing more is sent. */
async function repliedWhileWaiting(notice?: StopNotice): Promise<Fake> {
  const f = fake({
    steps: [
      { position: 1, delayHours: 0 },
      { position: 2, delayHours: 72 },
    ],
  });
  const result = await run(f, async (handle) => {
    await until('step 1 is sent and step 2 waits', async () => f.sends.length === 1 && f.records.some((r) => r.step === 2));
    await (notice ? handle.signal(replySignal, notice) : handle.signal(replySignal));
  });
  expect(result).toMatchObject({ state: 'replied', sent: 1 });
  expect(f.sends.map((s) => s.step)).toEqual([1]);
  return f;
}

it('a reply during a delay ends the enrollment at once: nothing more is sent', async () => {
  const f = await repliedWhileWaiting();
  // A bare signal (the Temporal UI): the workflow writes the stop on the row.
  expect(f.records.at(-1)?.state).toBe('replied');
  expect(f.recordCalls).toBe(1);
});

it('a reply whose sender already wrote the stop on the row (the webhook) ends it without writing it again', async () => {
  const f = await repliedWhileWaiting({ recorded: true });
  expect(f.records.map((r) => r.state)).toEqual(['active']);
  expect(f.recordCalls).toBe(0);
});

it('a render error sends nothing and pauses until someone resumes', async () => {
  const f = fake({}, { outcomes: ['render_error'] });
  const result = await run(f, async (handle) => {
    await until('the render error pauses the enrollment', async () => f.records.some((r) => r.state === 'paused'));
    expect(f.sends).toEqual([]);
    await handle.signal(resumeSignal);
  });
  expect(result).toMatchObject({ state: 'completed', sent: 1 });
});

it('a suppressed address or an archived campaign, found at send time, ends it without counting a send', async () => {
  expect(await run(fake({}, { outcomes: ['suppressed'] }))).toMatchObject({ state: 'unsubscribed', sent: 0 });
  expect(await run(fake({}, { outcomes: ['not_active'] }))).toMatchObject({ state: 'archived', sent: 0 });
});

it('archive while paused ends it', async () => {
  const f = fake({ campaignStatus: 'paused' });
  const result = await run(f, async (handle) => {
    await until('the paused start is recorded', async () => f.records.some((r) => r.state === 'paused'));
    await handle.signal(archiveSignal);
  });
  expect(result.state).toBe('archived');
  expect(f.sends).toEqual([]);
});

it('a restarted enrollment skips the steps it already sent, and an ended one does nothing', async () => {
  const f = fake({
    steps: [
      { position: 1, delayHours: 0 },
      { position: 2, delayHours: 1 },
    ],
    sentSteps: [1],
  });
  expect(await run(f)).toMatchObject({ state: 'completed', sent: 2 });
  expect(f.sends.map((s) => s.step)).toEqual([2]);

  const ended = fake({ status: 'replied' });
  expect(await run(ended)).toMatchObject({ state: 'replied' });
  expect(ended.sends).toEqual([]);
  expect(ended.records).toEqual([]);
});

describe('started by the fan-out with a first step that waits (firstWait)', () => {
  const DAY_LATER = { steps: [{ position: 1, delayHours: 24 }] };

  it('the first workflow task is the timer alone; the plan is loaded when it fires, and the step is sent after its delay', async () => {
    const f = fake(DAY_LATER);
    let history: Awaited<ReturnType<WorkflowHandle['fetchHistory']>> | undefined;
    const from = await env.currentTimeMs();
    const result = await run(
      f,
      async (handle) => {
        await handle.result();
        history = await handle.fetchHistory();
      },
      { firstWait: { from, delayHours: 24 } },
    );
    expect(result).toMatchObject({ state: 'completed', sent: 1 });
    const events = history!.events ?? [];
    const firstTimer = events.findIndex((e) => e.timerStartedEventAttributes);
    const firstLocalActivity = events.findIndex((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    expect(firstTimer).toBeGreaterThan(0);
    // No local activity before the timer: neither the load nor a record of the next send.
    expect(firstLocalActivity).toBeGreaterThan(firstTimer);
    expect(f.loads).toBe(1);
    expect(f.sends).toHaveLength(1);
    expect(f.sends[0]!.at - from).toBeGreaterThanOrEqual(24 * HOUR);
    expect(f.sends[0]!.at - from).toBeLessThan(25 * HOUR);
    // The batch recorded the next send: the workflow records only the end.
    expect(f.records).toEqual([{ state: 'completed', step: 1, nextSendAt: null }]);
  });

  it('the loaded plan decides: a first step that waits longer than the batch knew is waited for from the batch', async () => {
    const f = fake({ steps: [{ position: 1, delayHours: 48 }] });
    const from = await env.currentTimeMs();
    expect(await run(f, undefined, { firstWait: { from, delayHours: 24 } })).toMatchObject({ state: 'completed', sent: 1 });
    expect(f.sends[0]!.at - from).toBeGreaterThanOrEqual(48 * HOUR);
    expect(f.sends[0]!.at - from).toBeLessThan(49 * HOUR);
    expect(f.records.map((r) => r.state)).toEqual(['active', 'completed']);
  });

  it('pause during the first wait holds the clock and is recorded; archive then ends it without loading the plan', async () => {
    const f = fake(DAY_LATER);
    const result = await run(
      f,
      async (handle) => {
        await until('the workflow waits', async () => (await handle.query(statusQuery)).nextSendAt !== null);
        await handle.signal(pauseSignal);
        await until('the pause is recorded', async () => f.records.some((r) => r.state === 'paused'));
        await handle.signal(resumeSignal);
        await until('the resume is recorded', async () => f.records.some((r) => r.state === 'active'));
        await handle.signal(archiveSignal);
      },
      { firstWait: { from: await env.currentTimeMs(), delayHours: 24 } },
    );
    expect(result).toMatchObject({ state: 'archived', sent: 0 });
    expect(f.records.map((r) => r.state)).toEqual(['paused', 'active', 'archived']);
    expect(f.loads).toBe(0);
    expect(f.sends).toEqual([]);
  });
});

describe('moved to another sequence version (sequenceChanged)', () => {
  const V1 = {
    steps: [
      { position: 1, delayHours: 0 },
      { position: 2, delayHours: 72 },
    ],
  };

  /** Runs a v1 enrollment; once step 1 is sent and step 2 waits, the row pins `v2` and the workflow is signalled. */
  async function movedWhileWaiting(v2: Partial<EnrollmentPlan>): Promise<{ f: Fake; result: EnrollmentStatus }> {
    const f = fake(V1);
    const result = await run(f, async (handle) => {
      await until('step 1 is sent and step 2 waits', async () => f.sends.length === 1 && f.records.some((r) => r.step === 2));
      f.plan = { ...f.plan, sentSteps: [1], ...v2 };
      await handle.signal(sequenceChangedSignal);
    });
    return { f, result };
  }

  it('loads the plan again at its wait and goes on from the step it waited for with the new steps; a sent step is not sent again', async () => {
    const { f, result } = await movedWhileWaiting({
      steps: [
        { position: 1, delayHours: 0 },
        { position: 2, delayHours: 24 },
        { position: 3, delayHours: 24 },
      ],
    });
    expect(result).toMatchObject({ state: 'completed', sent: 3, step: 3 });
    expect(f.loads).toBe(2);
    expect(f.sends.map((s) => s.step)).toEqual([1, 2, 3]);
    // Step 2 waits v2's 24 h from the first send, not v1's 72 h.
    expect(f.sends[1]!.at - f.sends[0]!.at).toBeGreaterThanOrEqual(24 * HOUR);
    expect(f.sends[1]!.at - f.sends[0]!.at).toBeLessThan(25 * HOUR);
    // The new due time replaces v1's on the row.
    const step2 = f.records.filter((r) => r.state === 'active' && r.step === 2).map((r) => r.nextSendAt! - f.sends[0]!.at);
    expect(step2).toHaveLength(2);
    expect(step2[0]).toBe(72 * HOUR);
    expect(step2[1]).toBeGreaterThanOrEqual(24 * HOUR);
    expect(step2[1]).toBeLessThan(24 * HOUR + 60_000);
  });

  it('completes when the new version has no step left to send', async () => {
    const { f, result } = await movedWhileWaiting({ steps: [{ position: 1, delayHours: 0 }] });
    expect(result).toMatchObject({ state: 'completed', sent: 1 });
    expect(f.sends.map((s) => s.step)).toEqual([1]);
    expect(f.records.at(-1)).toMatchObject({ state: 'completed', nextSendAt: null });
  });

  it('while paused, the plan is loaded again only once it is resumed', async () => {
    const f = fake(V1);
    const result = await run(f, async (handle) => {
      await until('step 2 waits', async () => f.sends.length === 1 && f.records.some((r) => r.step === 2));
      await handle.signal(pauseSignal);
      await until('the pause is recorded', async () => f.records.some((r) => r.state === 'paused'));
      f.plan = { ...f.plan, sentSteps: [1], steps: [...V1.steps.slice(0, 1), { position: 2, delayHours: 1 }] };
      await handle.signal(sequenceChangedSignal);
      expect((await handle.query(statusQuery)).state).toBe('paused');
      expect(f.loads).toBe(1);
      await handle.signal(resumeSignal);
    });
    expect(result).toMatchObject({ state: 'completed', sent: 2 });
    expect(f.loads).toBe(2);
    expect(f.sends.map((s) => s.step)).toEqual([1, 2]);
  });
});

describe('moved to another sequence version without its signal (a send answers replan)', () => {
  const V1 = {
    sequenceVersion: 1,
    steps: [
      { position: 1, delayHours: 0 },
      { position: 2, delayHours: 72 },
    ],
  };

  /** Runs a v1 enrollment; once step 1 is sent and step 2 waits, the row pins `v2` and no signal comes. */
  async function movedSilently(v2: Partial<EnrollmentPlan>): Promise<{ f: Fake; result: EnrollmentStatus }> {
    const f = fake(V1);
    const result = await run(f, async () => {
      await until('step 1 is sent and step 2 waits', async () => f.sends.length === 1 && f.records.some((r) => r.step === 2));
      f.plan = { ...f.plan, sentSteps: [1], sequenceVersion: 2, ...v2 };
    });
    return { f, result };
  }

  it('the send of the old plan’s step sends nothing; the plan is loaded again and the new plan’s steps are sent', async () => {
    const { f, result } = await movedSilently({
      steps: [
        { position: 1, delayHours: 0 },
        { position: 2, delayHours: 24 },
        { position: 3, delayHours: 24 },
      ],
    });
    expect(result).toMatchObject({ state: 'completed', sent: 3, step: 3 });
    expect(f.loads).toBe(2);
    // Step 2 was asked for under v1 (replan), then under v2 (sent); step 3 under v2.
    expect(f.sendVersions).toEqual([1, 1, 2, 2]);
    expect(f.sends.map((s) => s.step)).toEqual([1, 2, 3]);
    // v2's step 2 was due (24 h from the first send) when v1's 72 h ended: sent at once.
    expect(f.sends[1]!.at - f.sends[0]!.at).toBeGreaterThanOrEqual(72 * HOUR);
    expect(f.sends[1]!.at - f.sends[0]!.at).toBeLessThan(73 * HOUR);
  });

  it('completes when the new version has no step left to send, rather than failing', async () => {
    const { f, result } = await movedSilently({ steps: [{ position: 1, delayHours: 0 }] });
    expect(result).toMatchObject({ state: 'completed', sent: 1 });
    expect(f.loads).toBe(2);
    expect(f.sendVersions).toEqual([1, 1]);
    expect(f.sends.map((s) => s.step)).toEqual([1]);
    expect(f.records.at(-1)).toMatchObject({ state: 'completed', nextSendAt: null });
  });
});
