// The campaign fan-out: starting, pausing, resuming and archiving a
// campaign commits the campaign's row and returns; the fan-out workflow then
// moves the enrollments in batches and starts or signals their workflows, with
// its progress in the campaign's stats while it runs. 600 leads at a batch of
// 250 take three batches; every enrollment workflow ends up in the state the
// campaign asked for, exactly one run each. A batch whose calls die midway
// makes them again from its list without losing or doubling an enrollment.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { connectClient, startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, until } from '../test/helpers/outreach';
import { campaignFanoutWorkflowId, enrollmentWorkflowId } from './ids';
import { archiveSignal, pauseSignal, statusQuery } from './enrollLead.contract';
import { type EnrollmentKey, signalEnrollments } from '../services/outreach/enrollments';
import { type FanoutBatchInput } from './campaignFanout.contract';
import { callsOfMove, FANOUT_MOVES, mergeActions } from './campaignFanout.rules';
import { callBatch, moveBatch } from '../activities/campaignFanout';

jest.setTimeout(240_000);

let db: TestDatabase;
let ds: DataSource;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
let worker: { stop(): Promise<void> };
let t: TenantFixture;
let owner: Agent;
let taskQueue: string;

beforeAll(async () => {
  db = await createTestDatabase('fanout');
  ds = await openDataSource(db.appUrl, 'tenantflow-fanout-test');
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  taskQueue = uniqueTaskQueue('fanout');
  worker = await startProjectWorker({ taskQueue, dataSource: ds });
  const api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue });
  t = await createTenant(ds, { customers: 1 });
  const o = await createUser(ds);
  await addMember(ds, t, o, 'owner');
  owner = await signIn(api, o.email);
});

afterAll(async () => {
  await worker?.stop();
  await apiTemporal?.close();
  await clientConnection?.close();
  await ds?.destroy();
  await db?.drop();
});

const LEADS = 600;
const customer = () => t.customers[0]!.id;

const statusCounts = async (campaign: string) =>
  Object.fromEntries(
    (
      (await withTenant(ds, t.tenant.id, (m) =>
        m.query('SELECT status, count(*)::int AS n FROM enrollments WHERE campaign_id = $1 GROUP BY 1', [campaign]),
      )) as { status: string; n: number }[]
    ).map((r) => [r.status, r.n]),
  ) as Record<string, number>;

/** Waits until every enrollment of the campaign is active with its day-later send recorded (by the fan-out's batch, which started it). */
const allWaitingOnTimers = (campaign: string, n: number) =>
  until(
    'every enrollment waiting on its timer',
    async () => {
      const [row] = (await withTenant(ds, t.tenant.id, (m) =>
        m.query("SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND status = 'active' AND next_send_at IS NOT NULL", [campaign]),
      )) as { n: number }[];
      return row!.n === n;
    },
    120_000,
  );

/** Waits for the campaign's fan-out to end: its rows are committed before its last calls are made. */
const fanoutDone = (campaign: string) => client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId: t.tenant.id, campaignId: campaign })).result();

async function fanoutBatches(campaign: string): Promise<number> {
  const history = await client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId: t.tenant.id, campaignId: campaign })).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'moveCampaignBatch').length;
}

/** A campaign whose one step waits a day (its inbox is never reached), with `n` leads added and pending. */
async function dayLaterCampaign(n: number, label: string): Promise<string> {
  const inbox = await createSmtpInbox(owner, customer(), 2);
  const campaign = await createCampaign(owner, customer(), { inboxIds: [inbox], steps: [{ subject: 'Later', body: 'Later', delayHours: 24 }] });
  const leads = Array.from({ length: n }, (_, k) => ({ email: `${label}-${k}@lead.example`, firstName: `${label}${k}` }));
  expect((await addLeads(owner, customer(), campaign, leads)).added).toBe(n);
  return campaign;
}

/** Handles of the campaign's enrollment workflows, in the enrollments' id order (the fan-out's order). */
async function enrollmentHandles(campaign: string) {
  const rows = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT lead_id FROM enrollments WHERE campaign_id = $1 ORDER BY id', [campaign]))) as {
    lead_id: string;
  }[];
  return rows.map((r) => client.workflow.getHandle(enrollmentWorkflowId({ tenantId: t.tenant.id, campaignId: campaign, leadId: r.lead_id })));
}

/** A delayed start's whole history so far: its start event alone, held back until the first step is due (none of its workflow tasks has run). */
async function delayedUntil(h: WorkflowHandle) {
  const events = (await h.fetchHistory()).events ?? [];
  expect(events).toHaveLength(1);
  const backoff = events[0]!.workflowExecutionStartedEventAttributes?.firstWorkflowTaskBackoff;
  return Number(backoff?.seconds ?? 0) * 1000 + Math.floor((backoff?.nanos ?? 0) / 1e6);
}

async function setStatus(campaign: string, status: string) {
  const res = await owner.post(`/api/campaigns/${campaign}/status`).set('X-Customer-Id', customer()).send({ status });
  expect(res.status).toBe(200);
  expect(res.body.status).toBe(status);
}

it('moves 600 enrollments in batches after each request: start, pause, resume, archive', async () => {
  const smtpPort = 2; // never reached: the first step waits a day
  const inbox = await createSmtpInbox(owner, customer(), smtpPort);
  const campaign = await createCampaign(owner, customer(), { inboxIds: [inbox], steps: [{ subject: 'Later', body: 'Later', delayHours: 24 }] });
  for (let i = 0; i < LEADS; i += 300) {
    const leads = Array.from({ length: 300 }, (_, k) => ({ email: `fan-${i + k}@lead.example`, firstName: `L${i + k}` }));
    expect((await addLeads(owner, customer(), campaign, leads)).added).toBe(300);
  }
  expect(await statusCounts(campaign)).toEqual({ pending: LEADS });

  // Start: the request only commits the campaign and hands over.
  await setStatus(campaign, 'active');
  const progress = await until('fan-out progress or its end', async () => {
    const stats = await owner.get(`/api/campaigns/${campaign}/stats`).set('X-Customer-Id', customer());
    expect(stats.status).toBe(200);
    return stats.body.fanout ?? ((await statusCounts(campaign)).active === LEADS ? 'done' : undefined);
  });
  if (progress !== 'done') expect(progress).toMatchObject({ state: 'running', action: 'resume' });
  await allWaitingOnTimers(campaign, LEADS);
  await fanoutDone(campaign);
  expect(await fanoutBatches(campaign)).toBe(Math.ceil(LEADS / 250));
  const all = await enrollmentHandles(campaign);
  const sample = [all[0]!, all[299]!, all[LEADS - 1]!];
  // Each waits for its first step in its delayed start: no workflow task yet.
  for (const h of sample) expect(await delayedUntil(h)).toBeGreaterThan(23 * 3_600_000);
  // The rows move before their workflows are signalled: a delayed start answers no query until its signal wakes it.
  const states = () =>
    Promise.all(
      sample.map((h) =>
        h.query(statusQuery).then(
          (s) => s.state,
          () => undefined,
        ),
      ),
    );

  // Pause, then resume: rows and workflows follow (the pause's signal-with-start wakes a delayed start).
  await setStatus(campaign, 'paused');
  await until('all paused', async () => (await statusCounts(campaign)).paused === LEADS, 120_000);
  await until('the workflows paused', async () => (await states()).every((s) => s === 'paused'));
  await setStatus(campaign, 'active');
  await until('all active again', async () => (await statusCounts(campaign)).active === LEADS, 120_000);
  await until('the workflows waiting again', async () => (await states()).every((s) => s === 'waiting'));

  // Archive: every enrollment workflow ends, one run each.
  await setStatus(campaign, 'archived');
  await until('all archived', async () => (await statusCounts(campaign)).archived === LEADS, 120_000);
  for (const h of sample) expect(await h.result()).toMatchObject({ state: 'archived' });
  let runs = 0;
  for await (const w of client.workflow.list({ query: `WorkflowType = 'enrollLead' AND TenantId = '${t.tenant.id}'` })) {
    expect(w.workflowId).toContain(campaign);
    runs += 1;
  }
  expect(runs).toBe(LEADS);
});

it('the fan-out starts enrollments eagerly: the worker that fans out takes their first workflow tasks with the starts', async () => {
  // A few leads and an idle worker: every start finds a free workflow task
  // slot, so the server hands each first task back with its start instead of
  // queueing it (the history's start event records that it accepted). The
  // first step is due at once (no start delay), in a send window that opens
  // only three days from now: each first task loads its plan and waits.
  const n = 5;
  const inbox = await createSmtpInbox(owner, customer(), 2);
  const inThreeDays = new Date(Date.now() + 3 * 86_400_000).getUTCDay() || 7;
  const campaign = await createCampaign(owner, customer(), {
    inboxIds: [inbox],
    schedule: { timezone: 'UTC', days: [inThreeDays], start: '00:00', end: '24:00' },
    steps: [{ subject: 'Now', body: 'Now', delayHours: 0 }],
  });
  const leads = Array.from({ length: n }, (_, k) => ({ email: `eager-${k}@lead.example`, firstName: `eager${k}` }));
  expect((await addLeads(owner, customer(), campaign, leads)).added).toBe(n);
  await setStatus(campaign, 'active');
  await allWaitingOnTimers(campaign, n);
  await fanoutDone(campaign);
  const handles = await enrollmentHandles(campaign);
  const accepted = await Promise.all(
    handles.map(async (h) => (await h.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.eagerExecutionAccepted ?? false),
  );
  expect(accepted).toEqual(Array.from({ length: n }, () => true));
  await setStatus(campaign, 'archived');
  await Promise.all(handles.map((h) => h.result()));
});

it('a first step that waits: the batch records each next send and starts each enrollment delayed until it is due; a signal wakes one at once', async () => {
  const n = 5;
  const campaign = await dayLaterCampaign(n, 'first-wait');
  const before = Date.now();
  await setStatus(campaign, 'active');
  await allWaitingOnTimers(campaign, n);
  await fanoutDone(campaign);
  const rows = (await withTenant(ds, t.tenant.id, (m) =>
    m.query('SELECT lead_id, current_step, next_send_at FROM enrollments WHERE campaign_id = $1 ORDER BY id', [campaign]),
  )) as {
    lead_id: string;
    current_step: number;
    next_send_at: Date;
  }[];
  const handles = await enrollmentHandles(campaign);
  for (const [i, r] of rows.entries()) {
    expect(r.current_step).toBe(1);
    expect(r.next_send_at.getTime() - before).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(r.next_send_at.getTime() - Date.now()).toBeLessThanOrEqual(24 * 3_600_000);
    // The start is held back until the recorded next send (to within the batch's call): no workflow task, no timer.
    const d = await handles[i]!.describe();
    expect(d.status.name).toBe('RUNNING');
    const delay = await delayedUntil(handles[i]!);
    expect(Math.abs(d.startTime.getTime() + delay - r.next_send_at.getTime())).toBeLessThan(5_000);
  }
  // A per-lead pause reaches a delayed start by signal-with-start: it runs now, pauses and answers queries.
  const lead = rows[0]!.lead_id;
  const paused = await owner.post(`/api/campaigns/${campaign}/leads/${lead}/pause`).set('X-Customer-Id', customer());
  expect(paused.status).toBe(200);
  await until('the woken enrollment paused', async () => (await handles[0]!.query(statusQuery).catch(() => undefined))?.state === 'paused');
  expect((await handles[1]!.fetchHistory()).events).toHaveLength(1);
  await setStatus(campaign, 'archived');
  for (const h of handles) expect(await h.result()).toMatchObject({ state: 'archived' });
  expect(await statusCounts(campaign)).toEqual({ archived: n });
  // A signal to an ended enrollment is refused by its closed run: it starts nothing (each is still its one closed run).
  const runIds = await Promise.all(handles.map(async (h) => (await h.describe()).runId));
  const ids = (await withTenant(ds, t.tenant.id, (m) =>
    m.query('SELECT id, campaign_id, lead_id FROM enrollments WHERE campaign_id = $1', [campaign]),
  )) as EnrollmentKey[];
  await signalEnrollments({ client, taskQueue }, t.tenant.id, ids, pauseSignal);
  for (const [i, h] of handles.entries()) expect(await h.describe()).toMatchObject({ runId: runIds[i], status: { name: 'COMPLETED' } });
});

it('a resume that arrives during a start keeps waking paused enrollments, and every action moves only its own statuses', () => {
  expect(mergeActions('resume', 'start')).toBe('resume');
  expect(mergeActions('start', 'pause')).toBe('pause');
  expect(mergeActions(null, 'start')).toBe('start');
  expect(FANOUT_MOVES.start.from).toEqual(['pending']);
  expect(FANOUT_MOVES.pause.from).toEqual(['active']);
});

/**
 * A day-later campaign of `n` leads made active by the request's commit alone,
 * its batches driven by hand: their input, the enrollments' handles, and how
 * many of them have a workflow.
 */
async function handDriven(n: number, label: string) {
  const campaign = await dayLaterCampaign(n, label);
  await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE campaigns SET status = 'active', started_at = now() WHERE id = $1", [campaign]));
  const batch = (action: FanoutBatchInput['action']): FanoutBatchInput => ({ tenantId: t.tenant.id, campaignId: campaign, action, after: '', limit: n });
  const handles = await enrollmentHandles(campaign);
  const started = async () =>
    (
      await Promise.all(
        handles.map((h) =>
          h.describe().then(
            () => 1,
            () => 0,
          ),
        ),
      )
    ).reduce<number>((a, b) => a + b, 0);
  return { campaign, batch, handles, started };
}

/** A client that dies (throws) on its `after + 1`-th workflow call, as a worker killed mid-batch would stop calling. */
function dyingClient(after: number): Client {
  let calls = 0;
  const die = () => {
    if (++calls > after) throw new Error('the worker died mid-batch');
  };
  return {
    workflow: {
      start: async (...args: Parameters<Client['workflow']['start']>) => (die(), client.workflow.start(...args)),
      signalWithStart: async (...args: Parameters<Client['workflow']['signalWithStart']>) => (die(), client.workflow.signalWithStart(...args)),
    },
  } as unknown as Client;
}

it('a batch commits its rows before any workflow call, and calls that die midway are made again from its list: none lost, none run twice', async () => {
  const n = 200;
  const { campaign, batch, handles, started } = await handDriven(n, 'calls');
  const keys = (await withTenant(ds, t.tenant.id, (m) =>
    m.query('SELECT id, campaign_id, lead_id FROM enrollments WHERE campaign_id = $1 ORDER BY id', [campaign]),
  )) as EnrollmentKey[];

  // The move commits every row and starts nothing: what each row needs is in its result.
  const moved = await moveBatch(ds, batch('start'));
  expect(moved).toMatchObject({ applies: true, moved: n, remaining: 0 });
  expect(moved.calls.map((c) => c.call)).toEqual(Array.from({ length: n }, () => 'start'));
  expect(moved.calls.map((c) => c.enrollmentId)).toEqual(keys.map((k) => k.id));
  expect(await statusCounts(campaign)).toEqual({ active: n });
  expect(await started()).toBe(0);
  // Between the commit and the calls a lead is archived (by signal-with-start,
  // which starts its workflow to end it): the batch's start finds its one
  // closed run and starts no second one.
  await signalEnrollments({ client, taskQueue }, t.tenant.id, [keys[0]!], archiveSignal);
  await handles[0]!.result();
  const archivedRun = (await handles[0]!.describe()).runId;
  const calls = callsOfMove(batch('start'), moved);
  // The calls die after 80 starts; their retry makes every call again.
  await expect(callBatch({ client: dyingClient(80), taskQueue }, calls)).rejects.toThrow('died mid-batch');
  expect(await started()).toBe(80);
  await callBatch({ client, taskQueue }, calls);
  expect(await started()).toBe(n);
  expect(await handles[0]!.describe()).toMatchObject({ runId: archivedRun, status: { name: 'COMPLETED' } });

  // Pause: the rows commit paused, then the signals; they die after 50, and the
  // retry signals all again, which changes nothing for the first 50.
  await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE campaigns SET status = 'paused' WHERE id = $1", [campaign]));
  const pausing = await moveBatch(ds, batch('pause'));
  expect(pausing).toMatchObject({ applies: true, moved: n - 1, remaining: 0 });
  expect(pausing.calls.every((c) => c.call === 'signal')).toBe(true);
  expect(await statusCounts(campaign)).toEqual({ paused: n - 1, archived: 1 });
  const pauseCalls = callsOfMove(batch('pause'), pausing);
  await expect(callBatch({ client: dyingClient(50), taskQueue }, pauseCalls)).rejects.toThrow('died mid-batch');
  await callBatch({ client, taskQueue }, pauseCalls);
  const running = handles.slice(1);
  await until('every workflow paused', async () =>
    (await Promise.all(running.map((h) => h.query(statusQuery).then((s) => s.state)))).every((s) => s === 'paused'),
  );
  // One run per enrollment: the archived lead's closed one, and for each of the
  // rest the run its start made (a second start would have ended it or been refused).
  for (const h of running) expect((await h.describe()).status.name).toBe('RUNNING');
  expect(await handles[0]!.describe()).toMatchObject({ runId: archivedRun, status: { name: 'COMPLETED' } });
  await until('one run per enrollment in the list', async () => {
    let runs = 0;
    for await (const w of client.workflow.list({ query: `WorkflowType = 'enrollLead' AND TenantId = '${t.tenant.id}'` })) {
      if (w.workflowId.includes(campaign)) runs += 1;
    }
    expect(runs).toBeLessThanOrEqual(n);
    return runs === n;
  });
  await withTenant(ds, t.tenant.id, (m) => m.query("UPDATE campaigns SET status = 'archived' WHERE id = $1", [campaign]));
  const archiving = await moveBatch(ds, batch('archive'));
  await callBatch({ client, taskQueue }, callsOfMove(batch('archive'), archiving));
  await Promise.all(running.map((h) => h.result()));
});
