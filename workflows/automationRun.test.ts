// automationRun on the time-skipping server, with the project's worker, the
// real database and a real SMTP server: a lead's run waits two days, sends a
// message, then waits three days for a reply — and goes on by the reply or by
// the timeout; a run finishes on the version it was created on; a rerun of a
// failed run skips what it completed (no second message); a dry run writes
// nothing; the lead and the trigger payload stay out of the run's history.
import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type DataSource } from 'typeorm';
import { insertEvents } from '../db/analyticsEvents';
import { withTenant } from '../db/tenantContext';
import { type Definition } from '../lib/automations';
import { createCampaign } from '../test/helpers/outreach';
import { addVersion, admitRuns, automationTenant, insertAutomation, queueRun, runState } from '../test/helpers/automations';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { until } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { createTimeSkippingEnv, startProjectWorker, uniqueTaskQueue } from '../test/helpers/temporal';
import { automationEventSignal, automationRunWorkflowId, WEBHOOK_HTTP_ERROR, type NotifyInput, type WebhookCallInput } from './automationRun.contract';

jest.setTimeout(240_000);

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let db: TestDatabase;
let ds: DataSource;
let smtp: TestSmtpServer;
let env: TestWorkflowEnvironment;
let worker: { stop(): Promise<void> };
let taskQueue: string;

/** The webhook and notify actions, stubbed: calls recorded; the webhook refuses while `webhookFails`. */
let webhookFails = false;
const webhookCalls: WebhookCallInput[] = [];
const notifyCalls: NotifyInput[] = [];

beforeAll(async () => {
  db = await createTestDatabase('automation-run');
  ds = await openDataSource(db.appUrl, 'tenantflow-automation-run-test');
  smtp = await startSmtpServer();
  env = await createTimeSkippingEnv();
  taskQueue = uniqueTaskQueue('automation-run');
  worker = await startProjectWorker({
    taskQueue,
    dataSource: ds,
    connection: env.nativeConnection,
    activityOverrides: {
      automationWebhookCall: async (input: WebhookCallInput) => {
        webhookCalls.push(input);
        // A slow receiver keeps its run busy (running) for a while.
        if (input.url.includes('/slow')) await new Promise((r) => setTimeout(r, 1500));
        if (webhookFails) throw ApplicationFailure.nonRetryable('the endpoint answered 400', WEBHOOK_HTTP_ERROR);
        return { status: 200, webhookId: `${input.runId}:${input.path}` };
      },
      automationNotify: async (input: NotifyInput) => {
        notifyCalls.push(input);
        return { userIds: ['usr_00000000000000000000000000'], mailed: 0 };
      },
    },
  });
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await smtp?.stop();
  await ds?.destroy();
  await db?.drop();
});

const handleOf = (tenantId: string, automationId: string, runId: string) =>
  env.client.workflow.getHandle(automationRunWorkflowId({ tenantId, automationId, runId }));

const leadOf = (tenantId: string, lead: string) =>
  withTenant(ds, tenantId, async (m) => {
    const [row] = (await m.query('SELECT stage, tags FROM leads WHERE id = $1', [lead])) as { stage: string; tags: string[] }[];
    return row!;
  });

const messagesOf = (tenantId: string, lead: string) =>
  withTenant(
    ds,
    tenantId,
    (m) =>
      m.query("SELECT id, origin, status, subject FROM messages WHERE lead_id = $1 AND direction = 'outbound' ORDER BY created_at", [lead]) as Promise<
        { id: string; origin: string; status: string; subject: string }[]
      >,
  );

const received = (email: string) => smtp.received.filter((r) => r.envelope.to.includes(email));

/** wait 2d → send_message → wait_for message.replied 3d → (event: set_stage interested | timeout: notify owners). */
const followUp = (inboxId: string): Definition => ({
  trigger: { type: 'lead.created' },
  filter: { '==': [{ var: 'lead.stage' }, 'new'] },
  steps: [
    { type: 'wait', duration: '2d' },
    { type: 'send_message', inboxId, subject: 'Hi {{firstName}}', text: 'A note for {{company}}.' },
    {
      type: 'wait_for',
      event: 'message.replied',
      timeout: '3d',
      onEvent: [{ type: 'set_stage', stage: 'interested' }],
      onTimeout: [{ type: 'notify', title: 'No reply', to: 'owners' }],
    },
  ],
});

describe('a follow-up: wait, send, wait for a reply', () => {
  it('takes the timeout branch when no reply comes: one message sent, the owners notified, the stage left as it was', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'quiet@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, followUp(s.inbox));
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    expect(await admitRuns(ds, env.client, taskQueue, s.tenantId)).toBe(1);

    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.status).toBe('completed');
    expect(run.error).toBeNull();
    expect(run.steps.map((x) => [x.path, x.type, x.status])).toEqual([
      ['0', 'wait', 'completed'],
      ['1', 'send_message', 'completed'],
      ['2', 'wait_for', 'completed'],
      ['2.timeout.0', 'notify', 'completed'],
    ]);
    expect(run.steps[1]!.output).toMatchObject({ outcome: 'sent' });
    expect(run.steps[2]!.output).toEqual({ branch: 'timeout' });
    expect(notifyCalls.filter((c) => c.runId === runId)).toEqual([expect.objectContaining({ path: '2.timeout.0', to: 'owners', title: 'No reply' })]);

    const messages = await messagesOf(s.tenantId, s.lead);
    expect(messages).toEqual([expect.objectContaining({ id: run.steps[1]!.output!.messageId, origin: 'automation', status: 'accepted', subject: 'Hi Lee' })]);
    expect(received('quiet@lead.example').map((r) => r.parsed.text ?? '')).toEqual([expect.stringContaining('A note for Acme.')]);
    expect((await leadOf(s.tenantId, s.lead)).stage).toBe('new');
    const events = (await withTenant(ds, s.tenantId, (m) =>
      m.query('SELECT type, automation_id, dedupe_key FROM analytics_events WHERE type LIKE $1', ['automation.%']),
    )) as { type: string; automation_id: string; dedupe_key: string }[];
    expect(events).toEqual([{ type: 'automation.run_completed', automation_id: automation, dedupe_key: `automation.run:${runId}` }]);
  });

  it('takes the reply branch when the dispatcher signals a reply: the lead moves to interested', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'keen@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, followUp(s.inbox));
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    const handle = handleOf(s.tenantId, automation, runId);

    // The wait: the run gives its slot back while it sleeps.
    await until('the run waiting two days', async () => ((await runState(ds, s.tenantId, runId)).status === 'waiting' ? true : undefined), 60_000);
    await env.sleep(2 * DAY + HOUR);
    const waiting = await until(
      'the run waiting for a reply',
      async () => {
        const r = await runState(ds, s.tenantId, runId);
        return r.status === 'waiting' && r.waiting_for?.path === '2' ? r : undefined;
      },
      60_000,
    );
    expect(waiting.waiting_for).toMatchObject({ event: 'message.replied', leadId: s.lead, path: '2' });
    expect(received('keen@lead.example')).toHaveLength(1);

    // What the dispatcher sends when it reads the reply and the run's waiting_for.
    await handle.signal(automationEventSignal, {
      eventId: 'aev_0000000000000000000000reply',
      type: 'message.replied',
      leadId: s.lead,
      occurredAt: new Date().toISOString(),
    });
    expect(await handle.result()).toEqual({ status: 'completed' });

    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status])).toEqual([
      ['0', 'completed'],
      ['1', 'completed'],
      ['2', 'completed'],
      ['2.event.0', 'completed'],
    ]);
    expect(run.steps[2]!.output).toEqual({ branch: 'event', eventId: 'aev_0000000000000000000000reply' });
    expect(run.steps[3]!.output).toEqual({ from: 'new', to: 'interested', changed: true });
    expect(await leadOf(s.tenantId, s.lead)).toMatchObject({ stage: 'interested' });
    const [changed] = (await withTenant(ds, s.tenantId, (m) =>
      m.query("SELECT automation_id, dedupe_key, properties FROM analytics_events WHERE type = 'lead.stage_changed' AND lead_id = $1", [s.lead]),
    )) as { automation_id: string; dedupe_key: string; properties: object }[];
    expect(changed).toEqual({ automation_id: automation, dedupe_key: `run:${runId}:2.event.0`, properties: { from: 'new', to: 'interested' } });
    expect(notifyCalls.filter((c) => c.runId === runId)).toEqual([]);
  });

  it('takes the reply branch at once when the reply is already in the event stream', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'early@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, followUp(s.inbox));
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    await until('the run waiting two days', async () => ((await runState(ds, s.tenantId, runId)).status === 'waiting' ? true : undefined), 60_000);
    await withTenant(ds, s.tenantId, (m) =>
      insertEvents(m, [{ type: 'message.replied', customerId: s.customer, leadId: s.lead, dedupeKey: `test-reply:${s.lead}` }]),
    );
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => x.path)).toEqual(['0', '1', '2', '2.event.0']);
    expect((await leadOf(s.tenantId, s.lead)).stage).toBe('interested');
  });

  it('ends at the filter when the lead does not match: completed, no step', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'moved@lead.example');
    await withTenant(ds, s.tenantId, (m) => m.query("UPDATE leads SET stage = 'won' WHERE id = $1", [s.lead]));
    const automation = await insertAutomation(ds, s.tenantId, followUp(s.inbox));
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run).toMatchObject({ status: 'completed', error: { code: 'filtered' }, steps: [] });
  });
});

describe('versions and reruns', () => {
  it('finishes a run on the version it was created on, though a newer one went live', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'versioned@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'v1' }] });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    expect(await addVersion(ds, s.tenantId, automation, { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'v2' }] })).toBe(2);
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    expect((await leadOf(s.tenantId, s.lead)).tags).toEqual(['v1']);
  });

  it('reruns a failed run on its version from the failed step: no second message', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'rerun@lead.example');
    const v1: Definition = {
      trigger: { type: 'lead.created' },
      steps: [
        { type: 'send_message', inboxId: s.inbox, subject: 'Once only', text: 'Hello {{firstName}}.' },
        { type: 'add_tag', tag: 'contacted' },
        { type: 'webhook_call', url: 'https://crm.example/hook' },
        { type: 'set_stage', stage: 'meeting' },
      ],
    };
    const automation = await insertAutomation(ds, s.tenantId, v1);
    const failedRun = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    webhookFails = true;
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    const outcome = await handleOf(s.tenantId, automation, failedRun).result();
    expect(outcome).toMatchObject({ status: 'failed', step: '2', error: { code: WEBHOOK_HTTP_ERROR } });
    const failed = await runState(ds, s.tenantId, failedRun);
    expect(failed).toMatchObject({ status: 'failed', error: { code: WEBHOOK_HTTP_ERROR, step: '2' } });
    expect(failed.steps.map((x) => [x.path, x.status])).toEqual([
      ['0', 'completed'],
      ['1', 'completed'],
      ['2', 'failed'],
    ]);

    // A newer version goes live; the rerun still runs the failed run's version.
    await addVersion(ds, s.tenantId, automation, { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'v2' }] });
    webhookFails = false;
    const rerun = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer, rerunOf: failedRun });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, rerun).result()).toEqual({ status: 'completed' });
    const done = await runState(ds, s.tenantId, rerun);
    expect(done.steps.map((x) => [x.path, x.status])).toEqual([
      ['0', 'skipped'],
      ['1', 'skipped'],
      ['2', 'completed'],
      ['3', 'completed'],
    ]);
    expect(done.steps[0]!.output).toEqual(failed.steps[0]!.output);
    expect(await messagesOf(s.tenantId, s.lead)).toHaveLength(1);
    expect(received('rerun@lead.example')).toHaveLength(1);
    expect(webhookCalls.filter((c) => c.automationId === automation).map((c) => [c.runId, c.path])).toEqual([
      [failedRun, '2'],
      [rerun, '2'],
    ]);
    expect(await leadOf(s.tenantId, s.lead)).toEqual({ stage: 'meeting', tags: ['contacted'] });
    const events = (await withTenant(ds, s.tenantId, (m) =>
      m.query("SELECT type, dedupe_key FROM analytics_events WHERE type LIKE 'automation.%' ORDER BY seq"),
    )) as { type: string; dedupe_key: string }[];
    expect(events).toEqual([
      { type: 'automation.run_failed', dedupe_key: `automation.run:${failedRun}` },
      { type: 'automation.run_completed', dedupe_key: `automation.run:${rerun}` },
    ]);
  });
});

describe('a dry run', () => {
  it('records what every action would do and writes nothing', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'dry@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        { type: 'send_message', inboxId: s.inbox, subject: 'Dry', text: 'Not sent.' },
        { type: 'wait', duration: '1d' },
        { type: 'add_tag', tag: 'dry' },
        {
          type: 'branch',
          condition: { in: ['dry', { var: 'lead.tags' }] },
          then: [{ type: 'set_stage', stage: 'won' }],
          else: [{ type: 'set_stage', stage: 'lost' }],
        },
        {
          type: 'wait_for',
          event: 'message.replied',
          timeout: '1d',
          onEvent: [{ type: 'add_tag', tag: 'replied' }],
          onTimeout: [{ type: 'webhook_call', url: 'https://crm.example/dry' }],
        },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer, dryRun: true });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status])).toEqual([
      ['0', 'completed'],
      ['1', 'completed'],
      ['2', 'completed'],
      ['3', 'completed'],
      ['3.else.0', 'completed'],
      ['4', 'completed'],
      ['4.timeout.0', 'completed'],
    ]);
    expect(run.steps[0]!.output).toEqual({ dryRun: true, would: { inboxId: s.inbox, subject: 'Dry', text: 'Not sent.', leadId: s.lead } });
    expect(run.steps[4]!.output).toEqual({ dryRun: true, would: { stage: 'lost', leadId: s.lead } });
    expect(run.steps[5]!.output).toMatchObject({ dryRun: true, branch: 'timeout' });
    expect(await messagesOf(s.tenantId, s.lead)).toEqual([]);
    expect(received('dry@lead.example')).toEqual([]);
    expect(await leadOf(s.tenantId, s.lead)).toEqual({ stage: 'new', tags: [] });
    expect(webhookCalls.filter((c) => c.runId === runId)).toEqual([]);
  });
  it('without a lead (a test run from the builder) still records what each step would do', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'dry-nolead@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'lead.created' },
      steps: [
        { type: 'send_message', inboxId: s.inbox, subject: 'Dry', text: 'Not sent.' },
        { type: 'add_tag', tag: 'dry' },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: null, customerId: s.customer, dryRun: true });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status, x.output])).toEqual([
      ['0', 'completed', { dryRun: true, would: { inboxId: s.inbox, subject: 'Dry', text: 'Not sent.' } }],
      ['1', 'completed', { dryRun: true, would: { tag: 'dry' } }],
    ]);
  });
});

describe('cancel and admission', () => {
  it('ends a canceled run canceled, its current step too, and writes no run event', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'canceled@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, followUp(s.inbox));
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    await until('the run waiting two days', async () => ((await runState(ds, s.tenantId, runId)).status === 'waiting' ? true : undefined), 60_000);
    const handle = handleOf(s.tenantId, automation, runId);
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const run = await runState(ds, s.tenantId, runId);
    expect(run).toMatchObject({ status: 'canceled', error: { code: 'canceled', step: '0' }, waiting_for: null });
    expect(run.steps.map((x) => [x.path, x.status])).toEqual([['0', 'canceled']]);
    expect(await messagesOf(s.tenantId, s.lead)).toEqual([]);
    const events = (await withTenant(ds, s.tenantId, (m) => m.query("SELECT type FROM analytics_events WHERE type LIKE 'automation.%'"))) as unknown[];
    expect(events).toEqual([]);
  });

  it('admits the next queued run when a run starts waiting and when a run ends', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'queue@lead.example');
    await ds.query('UPDATE tenants SET automation_max_running = 1 WHERE id = $1', [s.tenantId]);
    const waits = await insertAutomation(ds, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '1h' }] });
    const tags = await insertAutomation(ds, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'add_tag', tag: 'second' }] });
    const first = await queueRun(ds, s.tenantId, { automationId: waits, version: 1, leadId: s.lead, customerId: s.customer });
    const second = await queueRun(ds, s.tenantId, { automationId: tags, version: 1, leadId: s.lead, customerId: s.customer });
    const third = await queueRun(ds, s.tenantId, { automationId: tags, version: 1, leadId: s.lead, customerId: s.customer });
    // One slot: the first runs; its wait gives the slot to the second, whose end gives it to the third.
    expect(await admitRuns(ds, env.client, taskQueue, s.tenantId, 1)).toBe(1);
    const ended = (id: string) => async () => ((await runState(ds, s.tenantId, id)).status === 'completed' ? true : undefined);
    await until('the second run done while the first waits', ended(second), 60_000);
    await until('the third run done', ended(third), 60_000);
    expect((await runState(ds, s.tenantId, first)).status).toBe('waiting');
    expect(await handleOf(s.tenantId, waits, first).result()).toEqual({ status: 'completed' });
    for (const id of [first, second, third]) expect((await runState(ds, s.tenantId, id)).status).toBe('completed');
  });
});

describe('enrollment and stages', () => {
  it('enrolls the lead once, then fails the run at a stage the tenant does not have', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'enrolled@lead.example');
    const campaign = await createCampaign(s.owner, s.customer, { inboxIds: [s.inbox] });
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        { type: 'enroll_in_campaign', campaignId: campaign },
        { type: 'set_stage', stage: 'nurture' },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toMatchObject({ status: 'failed', step: '1', error: { code: 'unknown_stage' } });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status, x.output])).toEqual([
      ['0', 'completed', { campaignId: campaign, enrolled: true, start: false }],
      ['1', 'failed', null],
    ]);
    const enrollments = (await withTenant(ds, s.tenantId, (m) => m.query('SELECT status FROM enrollments WHERE lead_id = $1', [s.lead]))) as unknown[];
    expect(enrollments).toEqual([{ status: 'pending' }]);
    expect((await leadOf(s.tenantId, s.lead)).stage).toBe('new');
  });
});

describe('personal data', () => {
  /** Every string in a history, its payloads decoded (they are bytes of JSON). */
  const historyText = (v: unknown, out: string[] = []): string[] => {
    if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
    else if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const x of v) historyText(x, out);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) historyText(x, out);
    return out;
  };

  it('keeps the lead and the trigger payload out of the history, though conditions, a message and a webhook read them', async () => {
    const email = 'secret-person@example.test';
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, email);
    await withTenant(ds, s.tenantId, (m) =>
      m.query("UPDATE leads SET first_name = 'Zephyrine', last_name = 'Quillfeather', company = 'Hushco', fields = $2::jsonb WHERE id = $1", [
        s.lead,
        JSON.stringify({ nickname: 'field-marker-5521' }),
      ]),
    );
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'lead.created' },
      filter: { in: ['@example.test', { var: 'lead.email' }] },
      steps: [
        { type: 'send_message', inboxId: s.inbox, subject: 'Hi {{firstName}}', text: 'For {{company}} ({{nickname}}).' },
        { type: 'add_tag', tag: 'contacted' },
        {
          type: 'branch',
          condition: {
            and: [{ in: ['contacted', { var: 'lead.tags' }] }, { '!!': [{ var: 'trigger.payload.note' }] }, { '!!': [{ var: 'lead.fields.nickname' }] }],
          },
          then: [{ type: 'set_stage', stage: 'meeting' }],
          else: [{ type: 'set_stage', stage: 'lost' }],
        },
        { type: 'webhook_call', url: 'https://crm.example/private' },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, {
      automationId: automation,
      version: 1,
      leadId: s.lead,
      customerId: s.customer,
      trigger: { type: 'lead.created', payload: { note: 'payload-marker-9043' } },
    });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    const handle = handleOf(s.tenantId, automation, runId);
    expect(await handle.result()).toEqual({ status: 'completed' });

    // The conditions did read the lead and the payload: the filter passed and the branch went `then`.
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status])).toEqual([
      ['0', 'completed'],
      ['1', 'completed'],
      ['2', 'completed'],
      ['2.then.0', 'completed'],
      ['3', 'completed'],
    ]);
    expect(await leadOf(s.tenantId, s.lead)).toEqual({ stage: 'meeting', tags: ['contacted'] });
    expect(received(email).map((r) => r.parsed.text ?? '')).toEqual([expect.stringContaining('For Hushco (field-marker-5521).')]);
    expect(webhookCalls.filter((c) => c.runId === runId)).toEqual([expect.not.objectContaining({ data: expect.anything() })]);

    const text = historyText(await handle.fetchHistory()).join('\n');
    // The history is read: the run's id and its definition's tag are in it.
    expect(text).toContain(runId);
    expect(text).toContain('contacted');
    for (const secret of [email, 'Zephyrine', 'Quillfeather', 'Hushco', 'field-marker-5521', 'payload-marker-9043']) expect(text).not.toContain(secret);
  });
});

/** A reply from the lead, written into the event stream as the inbound path writes it; answers its id. */
const reply = async (tenantId: string, customerId: string, leadId: string, key: string): Promise<string> =>
  withTenant(ds, tenantId, async (m) => {
    await insertEvents(m, [{ type: 'message.replied', customerId, leadId, dedupeKey: key }]);
    const [row] = (await m.query('SELECT id FROM analytics_events WHERE dedupe_key = $1', [key])) as { id: string }[];
    return row!.id;
  });

const waitingAt = (tenantId: string, runId: string, path: string) =>
  until(
    `the run waiting at ${path}`,
    async () => {
      const r = await runState(ds, tenantId, runId);
      return r.status === 'waiting' && r.waiting_for?.path === path ? true : undefined;
    },
    60_000,
  );

describe('wait_for and its events', () => {
  it('takes an event that came while it waited though no signal came: the stream is asked again when the timeout fires', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'unsignalled@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        {
          type: 'wait_for',
          event: 'message.replied',
          timeout: '1d',
          onEvent: [{ type: 'add_tag', tag: 'replied' }],
          onTimeout: [{ type: 'add_tag', tag: 'silent' }],
        },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    await waitingAt(s.tenantId, runId, '0');
    // The reply commits after the run is waiting; the dispatcher's signal never arrives.
    const eventId = await reply(s.tenantId, s.customer, s.lead, `late-reply:${s.lead}`);
    expect(await handleOf(s.tenantId, automation, runId).result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.status, x.output])).toEqual([
      ['0', 'completed', { branch: 'event', eventId }],
      ['0.event.0', 'completed', { tag: 'replied', changed: true, tags: ['replied'] }],
    ]);
  });

  it('does not give a second wait for the same event type the first one’s event', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'twice@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        { type: 'wait_for', event: 'message.replied', timeout: '1d', onEvent: [{ type: 'add_tag', tag: 'first' }], onTimeout: [] },
        { type: 'add_tag', tag: 'between' },
        {
          type: 'wait_for',
          event: 'message.replied',
          timeout: '1d',
          onEvent: [{ type: 'add_tag', tag: 'second' }],
          onTimeout: [{ type: 'add_tag', tag: 'no-second' }],
        },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    await waitingAt(s.tenantId, runId, '0');
    const eventId = await reply(s.tenantId, s.customer, s.lead, `one-reply:${s.lead}`);
    const handle = handleOf(s.tenantId, automation, runId);
    const signal = { eventId, type: 'message.replied', leadId: s.lead, occurredAt: new Date().toISOString() };
    await handle.signal(automationEventSignal, signal);
    await waitingAt(s.tenantId, runId, '2');
    // The same event signalled again (a dispatcher pass repeated) is not taken twice either.
    await handle.signal(automationEventSignal, signal);
    expect(await handle.result()).toEqual({ status: 'completed' });
    const run = await runState(ds, s.tenantId, runId);
    expect(run.steps.map((x) => [x.path, x.output?.branch ?? x.output?.tag])).toEqual([
      ['0', 'event'],
      ['0.event.0', 'first'],
      ['1', 'between'],
      ['2', 'timeout'],
      ['2.timeout.0', 'no-second'],
    ]);
    expect(run.steps[0]!.output).toEqual({ branch: 'event', eventId });
  });
});

describe('a run whose automation is deleted', () => {
  it('ends quietly when it wakes: no retries against a row that is gone', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'deleted@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        { type: 'wait', duration: '1h' },
        { type: 'add_tag', tag: 'after' },
      ],
    });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    await until('the run waiting an hour', async () => ((await runState(ds, s.tenantId, runId)).status === 'waiting' ? true : undefined), 60_000);
    await withTenant(ds, s.tenantId, (m) => m.query('DELETE FROM automations WHERE id = $1', [automation]));
    const handle = handleOf(s.tenantId, automation, runId);
    expect(await handle.result()).toEqual({ status: 'canceled' });
    expect((await leadOf(s.tenantId, s.lead)).tags).toEqual([]);
    // One attempt of the activity that found the row gone, not a retry loop.
    const history = await handle.fetchHistory();
    const failures = (history.events ?? []).filter((e) => e.activityTaskFailedEventAttributes);
    expect(failures).toHaveLength(1);
  });
});

describe('concurrency after a wait', () => {
  it('puts runs that wake back in the queue: never more running than the limit, and every one completes', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'wakers@lead.example');
    await ds.query('UPDATE tenants SET automation_max_running = 1 WHERE id = $1', [s.tenantId]);
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'manual' },
      steps: [
        { type: 'wait', duration: '1h' },
        { type: 'add_tag', tag: 'woke' },
        { type: 'webhook_call', url: 'https://crm.example/slow' },
      ],
    });
    const runs = [
      await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer }),
      await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer }),
    ];
    expect(await admitRuns(ds, env.client, taskQueue, s.tenantId, 1)).toBe(1);
    // The first run's wait gives its slot to the second: both wait.
    for (const id of runs) await until('both waiting', async () => ((await runState(ds, s.tenantId, id)).status === 'waiting' ? true : undefined), 60_000);

    let most = 0;
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const [row] = (await withTenant(ds, s.tenantId, (m) => m.query("SELECT count(*)::int AS n FROM automation_runs WHERE status = 'running'"))) as {
          n: number;
        }[];
        most = Math.max(most, row!.n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // One result awaited at a time: the time-skipping server counts its unlocks, and two at once unbalance it.
    const outcomes: unknown[] = [];
    for (const id of runs) outcomes.push(await handleOf(s.tenantId, automation, id).result());
    polling = false;
    await poll;
    expect(outcomes).toEqual([{ status: 'completed' }, { status: 'completed' }]);
    expect(most).toBe(1);

    // The later run's first step after its wait began only once the earlier run had ended.
    const times = (await withTenant(ds, s.tenantId, (m) =>
      m.query(
        `SELECT r.ended_at, st.started_at FROM automation_runs r JOIN automation_run_steps st ON st.run_id = r.id AND st.path = '1'
          WHERE r.id = ANY($1) ORDER BY st.started_at`,
        [runs],
      ),
    )) as { ended_at: Date; started_at: Date }[];
    expect(times).toHaveLength(2);
    expect(times[1]!.started_at.getTime()).toBeGreaterThanOrEqual(times[0]!.ended_at.getTime());
  });
});

describe('tags and the manual trigger', () => {
  it('fails add_tag on a lead that has 50 tags with too_many_tags, once, and changes nothing', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'tagged-full@lead.example');
    await withTenant(ds, s.tenantId, (m) =>
      m.query("UPDATE leads SET tags = ARRAY(SELECT 't' || lpad(g::text, 2, '0') FROM generate_series(1, 50) g) WHERE id = $1", [s.lead]),
    );
    const automation = await insertAutomation(ds, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'add_tag', tag: 'one-more' }] });
    const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, runId).result()).toMatchObject({ status: 'failed', step: '0', error: { code: 'too_many_tags' } });
    const run = await runState(ds, s.tenantId, runId);
    expect(run).toMatchObject({ status: 'failed', error: { code: 'too_many_tags', step: '0' } });
    expect(run.steps.map((x) => [x.path, x.status, x.error?.code])).toEqual([['0', 'failed', 'too_many_tags']]);
    const tags = (await leadOf(s.tenantId, s.lead)).tags;
    expect(tags).toHaveLength(50);
    expect(tags).not.toContain('one-more');
    const tagged = (await withTenant(ds, s.tenantId, (m) =>
      m.query("SELECT 1 FROM analytics_events WHERE type = 'lead.tagged' AND lead_id = $1", [s.lead]),
    )) as unknown[];
    expect(tagged).toEqual([]);
  });

  it('runs a manual run whatever the filter says; a triggered one stops at it', async () => {
    const s = await automationTenant(ds, env.client, taskQueue, smtp.port, 'manual-filter@lead.example');
    const automation = await insertAutomation(ds, s.tenantId, {
      trigger: { type: 'lead.created' },
      filter: { '==': [{ var: 'lead.stage' }, 'won'] },
      steps: [{ type: 'add_tag', tag: 'ran' }],
    });
    const manual = await queueRun(ds, s.tenantId, {
      automationId: automation,
      version: 1,
      leadId: s.lead,
      customerId: s.customer,
      trigger: { type: 'manual', payload: {} },
    });
    const triggered = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
    await admitRuns(ds, env.client, taskQueue, s.tenantId);
    expect(await handleOf(s.tenantId, automation, manual).result()).toEqual({ status: 'completed' });
    expect(await handleOf(s.tenantId, automation, triggered).result()).toEqual({ status: 'completed' });
    expect((await runState(ds, s.tenantId, manual)).steps.map((x) => [x.path, x.status])).toEqual([['0', 'completed']]);
    expect(await runState(ds, s.tenantId, triggered)).toMatchObject({ error: { code: 'filtered' }, steps: [] });
    expect((await leadOf(s.tenantId, s.lead)).tags).toEqual(['ran']);
  });
});
