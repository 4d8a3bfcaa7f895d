// `npm run histories:record`: runs each workflow scenario on the dev server
// with the project's worker and stores its history in workflows/histories/,
// where the replay suite (workflows/replay.test.ts) picks it up. When a
// workflow changes shape, re-record its scenarios (RECORD_OVERWRITE=1, `-t`
// with the workflow's name): until the first release every history there is
// of the current shape (docs/architecture.md, "Workflows").
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { type DataSource } from 'typeorm';
import { diagnoseTenant } from '../workflows/diagnoseTenant';
import { diagnoseTenantWorkflowId, provisionTenantWorkflowId } from '../workflows/ids';
import { provisionTenant } from '../workflows/provisionTenant';
import { ApplicationFailure } from '@temporalio/common';
import { provisionEmailOutreach } from '../workflows/provisionEmailOutreach';
import { syncInboxes } from '../workflows/syncInboxes';
import { provisionEmailWorkflowId, syncInboxesWorkflowId } from '../workflows/ids';
import { generateKey, parseKeyring } from '../lib/encryption';
import { startFakeSmartlead } from './helpers/fakeSmartlead';
import { newId, uuidv7 } from '../db/ids';
import { insertEvents } from '../db/analyticsEvents';
import { insertExport } from '../db/analyticsExports';
import { exportEvents, exportEventsStartOptions } from '../workflows/exportEvents';
import { tenantSearchAttributes } from '../services/tenantWorkflows';
import { createTestDatabase, openDataSource, type TestDatabase } from './helpers/database';
import { addMember, createTenant, createUser } from './helpers/fixtures';
import { signIn, testApp } from './helpers/api';
import { addLeads, createCampaign, createSmtpInbox, postEmailWebhook, setCampaignStatus } from './helpers/outreach';
import { startSmtpServer, type TestSmtpServer } from './helpers/smtp';
import { withTenant } from '../db/tenantContext';
import { moveRunningToVersion } from '../db/enrollments';
import { pauseSignal, resumeSignal, statusQuery } from '../workflows/enrollLead';
import { campaignFanoutWorkflowId, enrollmentWorkflowId, messageWorkflowId } from '../workflows/ids';
import { connectClient, createTimeSkippingEnv, projectWorkflowBundle, temporalAddress, uniqueTaskQueue, withProjectWorker } from './helpers/temporal';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { BILLING, type BillingEvent, type BillingInput, billingWorkflowId, stateQuery, stripeEventSignal } from '../workflows/billing.contract';

import { importLegacy, ownerPool, progressOf, startBackfill, startBackfillWorker } from './helpers/backfill';
import { until } from './helpers/processes';
import { pauseSignal as backfillPause, resumeSignal as backfillResume } from '../workflows/backfill.contract';
import { PROVISIONING_REJECTED } from '../workflows/provisionTenant.contract';
import { setInboxImap } from '../db/inboxes';
import { settingsChangedSignal } from '../workflows/readMailbox.contract';
import { startGreenMail, type TestGreenMail } from './helpers/greenmail';
import { mailboxFixture, noteFromLead, pointImapAt, startReader } from './helpers/mailboxReader';
import { insertAutomation as insertTriggerAutomation } from './helpers/automationTriggers';
import { scheduledAutomationWorkflowId, triggerScheduledAutomation } from '../workflows/triggerScheduledAutomation';
import { admitRuns, automationTenant, insertAutomation, queueRun } from './helpers/automations';
import { automationEventSignal, automationRunWorkflowId, WEBHOOK_HTTP_ERROR, type WebhookCallInput } from '../workflows/automationRun.contract';
import { type Definition } from '../lib/automations';

const HISTORIES = path.join(__dirname, '..', 'workflows', 'histories');

let db: TestDatabase;
let owner: DataSource;
let app: DataSource;
let client: Client;
let connection: Connection;

beforeAll(async () => {
  if (process.env.RECORD_HISTORIES !== '1') throw new Error('run through `npm run histories:record`');
  db = await createTestDatabase('record');
  owner = await openDataSource(db.ownerUrl);
  app = await openDataSource(db.appUrl);
  ({ client, connection } = await connectClient());
});

afterAll(async () => {
  await connection?.close();
  await app?.destroy();
  await owner?.destroy();
  await db?.drop();
});

async function record(name: string, workflowId: string, from: { client: Client; runId?: string } = { client }): Promise<void> {
  const history = await from.client.workflow.getHandle(workflowId, from.runId).fetchHistory();
  fs.mkdirSync(HISTORIES, { recursive: true });
  const file = path.join(HISTORIES, `${name}.json`);
  // Recorded histories stand for executions that exist: keep them, add new ones.
  if (fs.existsSync(file) && process.env.RECORD_OVERWRITE !== '1') {
    console.log(`kept ${path.relative(process.cwd(), file)} (RECORD_OVERWRITE=1 replaces it)`);
    return;
  }
  fs.writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
  console.log(`recorded ${path.relative(process.cwd(), file)} (${history.events?.length ?? 0} events)`);
}

test('diagnoseTenant: completed', async () => {
  const { tenant } = await createTenant(owner, { customers: 2 });
  const taskQueue = uniqueTaskQueue('record');
  const workflowId = diagnoseTenantWorkflowId({ tenantId: tenant.id, requestId: randomUUID() });
  await withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow.execute(diagnoseTenant, {
      workflowId,
      taskQueue,
      args: [{ tenantId: tenant.id }],
      typedSearchAttributes: tenantSearchAttributes(tenant.id),
    }),
  );
  await record('diagnoseTenant.completed', workflowId);
});

test('diagnoseTenant: tenant not found', async () => {
  const tenantId = uuidv7();
  const taskQueue = uniqueTaskQueue('record');
  const workflowId = diagnoseTenantWorkflowId({ tenantId, requestId: randomUUID() });
  await withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow
      .execute(diagnoseTenant, { workflowId, taskQueue, args: [{ tenantId }], typedSearchAttributes: tenantSearchAttributes(tenantId) })
      .catch(() => undefined),
  );
  await record('diagnoseTenant.tenant-not-found', workflowId);
});

async function registerTenant(): Promise<string> {
  const tenantId = uuidv7();
  const n = tenantId.slice(-8);
  await app.query(
    `INSERT INTO tenants (id, slug, name, status, external_customer_id, industry, registration_hash, owner_email, owner_name)
     VALUES ($1, $2, $3, 'provisioning', $4, 'agency', 'recorded', $5, 'Recorded Owner')`,
    [tenantId, `recorded-${n}`, `Recorded ${n}`, `recorded-${n}`, `owner-${n}@example.test`],
  );
  return tenantId;
}

test('provisionTenant: completed', async () => {
  const tenantId = await registerTenant();
  const taskQueue = uniqueTaskQueue('record');
  const workflowId = provisionTenantWorkflowId({ tenantId });
  await withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow.execute(provisionTenant, { workflowId, taskQueue, args: [{ tenantId }], typedSearchAttributes: tenantSearchAttributes(tenantId) }),
  );
  await record('provisionTenant.completed', workflowId);
  // Its last step started the tenant's billing workflow, which runs for good.
  await client.workflow
    .getHandle(billingWorkflowId(tenantId))
    .terminate('recorded')
    .catch(() => undefined);
});

test('provisionTenant: a step fails for good and the saga compensates', async () => {
  const tenantId = await registerTenant();
  const taskQueue = uniqueTaskQueue('record');
  const workflowId = provisionTenantWorkflowId({ tenantId });
  await withProjectWorker(
    {
      dataSource: app,
      taskQueue,
      activityOverrides: {
        enableDefaultEntitlements: async () => {
          throw ApplicationFailure.nonRetryable('recorded refusal', PROVISIONING_REJECTED);
        },
      },
    },
    () =>
      client.workflow
        .execute(provisionTenant, { workflowId, taskQueue, args: [{ tenantId }], typedSearchAttributes: tenantSearchAttributes(tenantId) })
        .catch(() => undefined),
  );
  await record('provisionTenant.compensated', workflowId);
});

test('provisionEmailOutreach and syncInboxes: completed', async () => {
  const provider = await startFakeSmartlead();
  try {
    const { tenant, customers } = await createTenant(owner, { customers: 1 });
    const input = { tenantId: tenant.id, customerId: customers[0]!.id };
    const taskQueue = uniqueTaskQueue('record');
    const opts = {
      dataSource: app,
      taskQueue,
      keyring: parseKeyring(`v1:${generateKey()}`, 'v1'),
      smartlead: { baseUrl: provider.baseUrl, apiKey: provider.adminKey },
    };
    const provisionId = provisionEmailWorkflowId(input);
    const syncId = syncInboxesWorkflowId(input);
    await withProjectWorker(opts, async () => {
      await client.workflow.execute(provisionEmailOutreach, {
        workflowId: provisionId,
        taskQueue,
        args: [input],
        typedSearchAttributes: tenantSearchAttributes(tenant.id),
      });
      await client.workflow.execute(syncInboxes, { workflowId: syncId, taskQueue, args: [input], typedSearchAttributes: tenantSearchAttributes(tenant.id) });
    });
    await record('provisionEmailOutreach.completed', provisionId);
    await record('syncInboxes.completed', syncId);
  } finally {
    await provider.stop();
  }
});

describe('enrollLead', () => {
  const SECRET = 'record-webhook-secret-0123456789';
  let smtp: TestSmtpServer;
  let apiTemporal: Connection;
  beforeAll(async () => {
    smtp = await startSmtpServer();
    apiTemporal = await Connection.connect({ address: temporalAddress() });
  });
  afterAll(async () => {
    await apiTemporal?.close();
    await smtp?.stop();
  });

  /** A tenant's campaign with one lead, started through the API (on the run's dev server unless `on` is given); returns the enrollment workflow's id. */
  async function startedEnrollment(taskQueue: string, steps: { subject: string; body: string; delayHours: number }[], on?: Client) {
    const temporal = on ?? client;
    const t = await createTenant(owner, { customers: 1 });
    const user = await createUser(owner);
    await addMember(owner, t, user, 'owner');
    const api = testApp(app, { client: on ?? new Client({ connection: apiTemporal }), taskQueue, emailWebhookSecrets: { smartlead: SECRET } });
    const agent = await signIn(api, user.email);
    const customerId = t.customers[0]!.id;
    const inbox = await createSmtpInbox(agent, customerId, smtp.port);
    const campaign = await createCampaign(agent, customerId, { inboxIds: [inbox], steps });
    await addLeads(agent, customerId, campaign, [{ email: `${randomUUID()}@lead.example`, firstName: 'Rec', company: 'Recorded' }]);
    await setCampaignStatus(agent, customerId, campaign, 'active');
    const [e] = (await withTenant(app, t.tenant.id, (m) => m.query('SELECT lead_id FROM enrollments WHERE campaign_id = $1', [campaign]))) as {
      lead_id: string;
    }[];
    const workflowId = enrollmentWorkflowId({ tenantId: t.tenant.id, campaignId: campaign, leadId: e!.lead_id });
    // The campaign's fan-out starts the enrollment workflow.
    const fanoutId = campaignFanoutWorkflowId({ tenantId: t.tenant.id, campaignId: campaign });
    await temporal.workflow.getHandle(fanoutId).result();
    return { api, agent, customerId, campaign, workflowId, fanoutId, handle: temporal.workflow.getHandle(workflowId) };
  }
  const enrollmentOf = async (campaign: string, workflowId: string) => {
    const tenantId = workflowId.split('/')[1]!;
    const [row] = (await withTenant(app, tenantId, (m) => m.query('SELECT id FROM enrollments WHERE campaign_id = $1', [campaign]))) as { id: string }[];
    return row?.id;
  };
  const waitFor = async (handle: ReturnType<Client['workflow']['getHandle']>, state: string) => {
    for (let i = 0; i < 300; i++) {
      const s = await handle.query(statusQuery).catch(() => undefined);
      if (s?.state === state && s.sent >= 1) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`never reached ${state}`);
  };

  test('completed', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const e = await startedEnrollment(taskQueue, [
        { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
        { subject: 'Two', body: 'Two', delayHours: 0 },
      ]);
      await e.handle.result();
      await record('enrollLead.completed', e.workflowId);
      await record('campaignFanout.completed', e.fanoutId);
    });
  });

  test('paused, resumed, then archived', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const e = await startedEnrollment(taskQueue, [
        { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
        { subject: 'Two', body: 'Two', delayHours: 24 },
      ]);
      await waitFor(e.handle, 'waiting');
      await e.handle.signal(pauseSignal);
      await waitFor(e.handle, 'paused');
      await e.handle.signal(resumeSignal);
      await waitFor(e.handle, 'waiting');
      await setCampaignStatus(e.agent, e.customerId, e.campaign, 'archived');
      await e.handle.result();
      await record('enrollLead.paused-resumed-archived', e.workflowId);
    });
  });

  // The fan-out starts an enrollment whose first step waits delayed until the
  // step is due (a start delay; the wait is in its input too).
  test('first step waits: the delayed start woken by a pause, resumed, then archived', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const e = await startedEnrollment(taskQueue, [{ subject: 'Later {{firstName}}', body: 'Later', delayHours: 24 }]);
      const inState = (state: string) => until(state, async () => (await e.handle.query(statusQuery).catch(() => undefined))?.state === state);
      const lead = e.workflowId.split('/').at(-1)!;
      const leadAction = async (action: 'pause' | 'resume') =>
        expect((await e.agent.post(`/api/campaigns/${e.campaign}/leads/${lead}/${action}`).set('X-Customer-Id', e.customerId)).status).toBe(200);
      expect((await e.handle.fetchHistory()).events).toHaveLength(1);
      await leadAction('pause');
      await inState('paused');
      await leadAction('resume');
      await until('the resume recorded', async () => {
        const history = await e.handle.fetchHistory();
        return (history.events ?? []).filter((ev) => ev.markerRecordedEventAttributes?.markerName === 'core_local_activity').length >= 2;
      });
      await setCampaignStatus(e.agent, e.customerId, e.campaign, 'archived');
      await e.handle.result();
      await record('enrollLead.start-delay.paused-resumed-archived', e.workflowId);
    });
  });

  // The day's delay is skipped: the time-skipping server runs the fan-out and the enrollment.
  test('first step waits: the delayed start runs when due, loads the plan and sends the step', async () => {
    const env = await createTimeSkippingEnv();
    try {
      const taskQueue = uniqueTaskQueue('record');
      await withProjectWorker({ dataSource: app, taskQueue, connection: env.nativeConnection }, async () => {
        const e = await startedEnrollment(taskQueue, [{ subject: 'Later {{firstName}}', body: 'Later', delayHours: 24 }], env.client);
        expect(await e.handle.result()).toMatchObject({ state: 'completed', sent: 1 });
        await record('enrollLead.start-delay.completed', e.workflowId, { client: env.client });
      });
    } finally {
      await env.teardown();
    }
  });

  test('replied', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const e = await startedEnrollment(taskQueue, [
        { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
        { subject: 'Two', body: 'Two', delayHours: 24 },
      ]);
      await waitFor(e.handle, 'waiting');
      const enrollmentId = (await enrollmentOf(e.campaign, e.workflowId))!;
      const sent = smtp.received.find((m) => m.parsed.messageId?.startsWith(`<${enrollmentId}.1.`))!;
      const res = await postEmailWebhook(e.api, SECRET, {
        id: `reply-${randomUUID()}`,
        type: 'reply',
        messageId: sent.parsed.messageId,
        reply: { subject: 'Re', text: 'Yes' },
      });
      if (res.body.status !== 'processed') throw new Error(`reply not routed: ${JSON.stringify(res.body)}`);
      await e.handle.result();
      await record('enrollLead.replied', e.workflowId);
    });
  });

  // Moved to the campaign's latest sequence version while it waits for step 2:
  // the sequenceChanged signal, the plan loaded again, version 2's step 2 sent at once.
  test('moved to the latest sequence version while waiting', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const e = await startedEnrollment(taskQueue, [
        { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
        { subject: 'Two', body: 'Two', delayHours: 24 },
      ]);
      await waitFor(e.handle, 'waiting');
      const at = (p: string) => e.agent.post(`/api/campaigns/${e.campaign}${p}`).set('X-Customer-Id', e.customerId);
      const v2 = await at('/sequence').send({
        steps: [
          { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
          { subject: 'Two, newer', body: 'Two', delayHours: 0 },
        ],
      });
      expect(v2.status).toBe(201);
      expect((await at('/sequence/upgrade')).body).toEqual({ version: 2, moved: 1 });
      expect(await e.handle.result()).toMatchObject({ state: 'completed', sent: 2 });
      await record('enrollLead.sequence-changed', e.workflowId);
    });
  });

  // Moved to version 2 with no signal (the request died after its commit):
  // the send of step 2 finds the row on version 2 and answers replan, the
  // plan is loaded again and version 2's step 2 is sent. The time-skipping
  // server runs step 2's delay.
  test('moved to the latest sequence version without the signal: the send replans', async () => {
    const env = await createTimeSkippingEnv();
    try {
      const taskQueue = uniqueTaskQueue('record');
      await withProjectWorker({ dataSource: app, taskQueue, connection: env.nativeConnection }, async () => {
        const e = await startedEnrollment(
          taskQueue,
          [
            { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
            { subject: 'Two', body: 'Two', delayHours: 24 },
          ],
          env.client,
        );
        await until('step 2 waits', async () => (await e.handle.query(statusQuery).catch(() => undefined))?.step === 2);
        const v2 = await e.agent
          .post(`/api/campaigns/${e.campaign}/sequence`)
          .set('X-Customer-Id', e.customerId)
          .send({
            steps: [
              { subject: 'One {{firstName}}', body: 'One', delayHours: 0 },
              { subject: 'Two, newer', body: 'Two', delayHours: 0 },
            ],
          });
        expect(v2.status).toBe(201);
        const tenantId = e.workflowId.split('/')[1]!;
        expect(await withTenant(app, tenantId, (m) => moveRunningToVersion(m, e.campaign, 2))).toHaveLength(1);
        expect(await e.handle.result()).toMatchObject({ state: 'completed', sent: 2 });
        await record('enrollLead.replanned', e.workflowId, { client: env.client });
      });
    } finally {
      await env.teardown();
    }
  });
});

const DAY = 86_400_000;
type TimeSkipping = Awaited<ReturnType<typeof createTimeSkippingEnv>>;

function startBilling(env: TimeSkipping, taskQueue: string, tenantId: string, input: Partial<BillingInput>) {
  return env.client.workflow.start(BILLING, {
    workflowId: billingWorkflowId(tenantId),
    taskQueue,
    args: [{ tenantId, ...input } satisfies BillingInput],
    typedSearchAttributes: tenantSearchAttributes(tenantId),
  });
}

/** A billing scenario on the time-skipping server (the lifecycle runs for months), with the project's workflows and activities. */
async function onBillingClock(
  fn: (env: TimeSkipping, start: (tenantId: string, input: Partial<BillingInput>) => ReturnType<typeof startBilling>) => Promise<void>,
): Promise<void> {
  const env = await createTimeSkippingEnv();
  try {
    const taskQueue = uniqueTaskQueue('record');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await projectWorkflowBundle(),
      activities: createActivities({ dataSource: app, mailer: async () => undefined }),
    });
    await worker.runUntil(fn(env, (tenantId, input) => startBilling(env, taskQueue, tenantId, input)));
  } finally {
    await env.teardown();
  }
}

// The billing lifecycle runs for months: its scenarios run on the time-skipping server.
test('billing: trial → active → payment fails → dunning reminders → paid; and a continue-as-new', async () => {
  await onBillingClock(async (env, start) => {
    const t = await createTenant(owner, { name: 'Recorded billing', customers: 1 });
    await owner.query('UPDATE tenants SET owner_email = $2 WHERE id = $1', [t.tenant.id, 'owner@recorded.example']);
    const handle = await start(t.tenant.id, { start: { plan: 'starter', trialDays: 14 } });
    const now = await env.currentTimeMs();
    const sub = { subscriptionId: 'sub_recorded', plan: 'starter', periodStart: now, periodEnd: now + 30 * DAY, trialEnd: null };
    await handle.signal(stripeEventSignal, { id: 'evt_r1', created: now, type: 'subscription', status: 'active', ...sub } as BillingEvent);
    await handle.signal(stripeEventSignal, { id: 'evt_r2', created: now + 1, type: 'invoice_failed', subscriptionId: 'sub_recorded' });
    await env.sleep('8 days');
    await handle.signal(stripeEventSignal, {
      id: 'evt_r3',
      created: now + 8 * DAY,
      type: 'invoice_paid',
      subscriptionId: 'sub_recorded',
      periodEnd: now + 30 * DAY,
    });
    await handle.signal(stripeEventSignal, { id: 'evt_r4', created: now + 8 * DAY, type: 'credit_pack', pack: 'sends_50', sends: 50 });
    await env.sleep('1 hour');
    expect((await handle.query(stateQuery)).status).toBe('active');
    await record('billing.dunning', handle.workflowId, { client: env.client });

    const t2 = await createTenant(owner, { name: 'Recorded continue-as-new', customers: 1 });
    const h2 = await start(t2.tenant.id, { start: { plan: 'free' }, historyLimit: 25 });
    const firstRun = (await h2.describe()).runId;
    for (let i = 0; i < 8; i++) {
      await h2.signal(stripeEventSignal, {
        id: `evt_can_${i}`,
        created: now + i,
        type: 'subscription',
        status: 'active',
        ...sub,
        plan: i % 2 ? 'pro' : 'starter',
      } as BillingEvent);
      await env.sleep('1 minute');
    }
    expect((await env.client.workflow.getHandle(h2.workflowId).describe()).runId).not.toBe(firstRun);
    await record('billing.continue-as-new', h2.workflowId, { client: env.client, runId: firstRun });
    for (const h of [handle, h2]) await env.client.workflow.getHandle(h.workflowId).terminate('recorded');
  });
});

// The workflow follows one subscription and entitles the plan paid for: an
// unpaid upgrade (past_due on the new plan), an event of another subscription
// ignored, then the upgrade paid.
test('billing: an unpaid upgrade keeps the paid plan, another subscription is ignored, then paid', async () => {
  await onBillingClock(async (env, start) => {
    const t = await createTenant(owner, { name: 'Recorded paid plan', customers: 1 });
    const tenantId = t.tenant.id;
    const handle = await start(tenantId, { start: { plan: 'free' } });
    const now = await env.currentTimeMs();
    const sub = { subscriptionId: 'sub_recorded_paid', periodStart: now, periodEnd: now + 30 * DAY, trialEnd: null };
    const signal = (e: BillingEvent) => handle.signal(stripeEventSignal, e);
    await signal({ id: 'evt_p1', created: now, type: 'subscription', status: 'active', plan: 'starter', ...sub });
    await env.sleep('1 minute');
    await signal({ id: 'evt_p2', created: now + 1000, type: 'subscription', status: 'past_due', plan: 'pro', ...sub });
    await env.sleep('1 minute');
    expect(await handle.query(stateQuery)).toMatchObject({ plan: 'pro', entitledPlan: 'starter' });
    await signal({ id: 'evt_p3', created: now + 2000, type: 'subscription', status: 'canceled', plan: 'pro', ...sub, subscriptionId: 'sub_recorded_other' });
    await env.sleep('1 minute');
    await signal({ id: 'evt_p4', created: now + 3000, type: 'invoice_paid', subscriptionId: 'sub_recorded_paid', periodEnd: now + 30 * DAY });
    await env.sleep('1 hour');
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'active', entitledPlan: 'pro', eventsIgnored: 1 });
    await record('billing.paid-not-asked', handle.workflowId, { client: env.client });
    await handle.terminate('recorded');
  });
});

describe('backfill', () => {
  /** Each scenario on its own database: a finished backfill leaves its table under FORCE RLS and NOT NULL. */
  async function scenario(rows: number, fn: (taskQueue: string) => Promise<void>): Promise<void> {
    const sdb = await createTestDatabase('record_backfill');
    const sowner = await openDataSource(sdb.ownerUrl);
    const pool = ownerPool(sdb.ownerUrl);
    const taskQueue = uniqueTaskQueue('record-backfill');
    const worker = await startBackfillWorker({ ownerUrl: sdb.ownerUrl, taskQueue });
    try {
      const tenants = [(await createTenant(sowner, { customers: 1 })).tenant.id, (await createTenant(sowner, { customers: 1 })).tenant.id];
      await importLegacy(pool, tenants, rows);
      await fn(taskQueue);
    } finally {
      await worker.stop();
      await pool.end();
      await sowner.destroy();
      await sdb.drop();
    }
  }

  test('paused and resumed mid-run', () =>
    scenario(3_000, async (taskQueue) => {
      // Batches of at most 100 with a pause between them, so it is still running when signalled.
      const h = await startBackfill(client, taskQueue, 'legacy-tenant-id', { settings: { maxBatch: 100, sleepMs: 20 }, sliceMs: 300 });
      await until('some rows done', async () => (await progressOf(h)).rowsDone > 300);
      await h.signal(backfillPause);
      await until('paused', async () => (await progressOf(h)).state === 'paused');
      await h.signal(backfillResume);
      expect((await h.result()).state).toBe('completed');
      await record('backfill.paused-resumed', h.workflowId);
    }));

  test('completed, with its finish', () =>
    scenario(3_000, async (taskQueue) => {
      const h = await startBackfill(client, taskQueue, 'legacy-tenant-id');
      expect((await h.result()).state).toBe('completed');
      await record('backfill.completed', h.workflowId);
    }));

  test('a long run that continues as new', () =>
    scenario(3_000, async (taskQueue) => {
      const h = await startBackfill(client, taskQueue, 'legacy-tenant-id', { settings: { maxBatch: 50, sleepMs: 10 }, sliceMs: 200, historyLimit: 20 });
      const firstRun = (await h.describe()).runId;
      const end = await client.workflow.getHandle(h.workflowId).result();
      expect((end as { generation: number }).generation).toBeGreaterThan(0);
      await record('backfill.continue-as-new', h.workflowId, { client, runId: firstRun });
    }));

  test('tenant-scoped: one child per tenant, then the finish', () =>
    scenario(10, async (taskQueue) => {
      const h = await startBackfill(client, taskQueue, 'leads-email-domain', { settings: { parallelism: 1 } });
      expect((await h.result()).state).toBe('completed');
      await record('backfill.tenants-completed', h.workflowId);
    }));
});

describe('readMailbox', () => {
  const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
  let gm: TestGreenMail;
  beforeAll(async () => {
    gm = await startGreenMail();
  });
  afterAll(async () => {
    await gm?.stop();
  });

  async function mailboxTenant(taskQueue: string, label: string, steps?: { subject: string; body: string; delayHours: number }[]) {
    const t = await createTenant(owner, { customers: 1 });
    const user = await createUser(owner);
    await addMember(owner, t, user, 'owner');
    const agent = await signIn(testApp(app, { client, taskQueue, keyring }), user.email);
    const f = await mailboxFixture(agent, gm, { tenantId: t.tenant.id, customerId: t.customers[0]!.id }, label, steps ? { steps } : {});
    return { agent, f };
  }

  test('a reply that ends an enrollment, then the settings cleared', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue, keyring }, async () => {
      const { agent, f } = await mailboxTenant(taskQueue, 'rec-reply', [
        { subject: 'Hello {{firstName}}', body: 'A first note.', delayHours: 0 },
        { subject: 'Following up', body: 'A second note.', delayHours: 1 },
      ]);
      await pointImapAt(app, keyring, gm, f);
      await gm.append(f.user, noteFromLead(f, 1));
      const h = await startReader(client, taskQueue, f);
      await setCampaignStatus(agent, f.customerId, f.campaignId, 'active');
      const sent = await until('step 1', async () => {
        const [row] = (await withTenant(app, f.tenantId, (m) =>
          m.query("SELECT message_id, lead_id FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted'", [f.campaignId]),
        )) as { message_id: string; lead_id: string }[];
        return row;
      });
      const answer = [`From: <${f.lead}>`, `To: <${f.user.email}>`, 'Subject: Re: Hello', `Message-ID: <rec-answer.${f.inboxId}@lead.example>`];
      await gm.append(f.user, [...answer, `In-Reply-To: ${sent.message_id}`, '', 'Tell me more.', ''].join('\r\n'));
      const enrollment = client.workflow.getHandle(enrollmentWorkflowId({ tenantId: f.tenantId, campaignId: f.campaignId, leadId: sent.lead_id }));
      await enrollment.result();
      await withTenant(app, f.tenantId, (m) => setInboxImap(m, f.inboxId, null));
      await h.signal(settingsChangedSignal);
      await h.result();
      await record('readMailbox.replied-cleared', h.workflowId);
    });
  });

  test('a refused login, new settings, then a continue-as-new', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue, keyring }, async () => {
      const { f } = await mailboxTenant(taskQueue, 'rec-can');
      await pointImapAt(app, keyring, gm, f, 'wrong-password');
      for (let n = 1; n <= 12; n++) await gm.append(f.user, noteFromLead(f, n));
      const h = await startReader(client, taskQueue, f, { roundsPerRun: 4, limits: { batchMessages: 5, batchesPerCall: 1 } });
      const firstRun = (await h.describe()).runId;
      await until('the refusal', async () => {
        const [row] = (await withTenant(app, f.tenantId, (m) => m.query('SELECT error FROM inbox_mailboxes WHERE inbox_id = $1', [f.inboxId]))) as {
          error: string | null;
        }[];
        return row?.error ?? undefined;
      });
      await pointImapAt(app, keyring, gm, f);
      await h.signal(settingsChangedSignal);
      await until('a second run', async () => ((await h.describe()).runId !== firstRun ? true : undefined), 60_000);
      await h.terminate('recorded');
      await record('readMailbox.continue-as-new', h.workflowId, { client, runId: firstRun });
    });
  });
});

describe('sendMessage', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startSmtpServer();
  });
  afterAll(() => smtp?.stop());

  /** A tenant's owner on an app that starts workflows through `through`, an SMTP inbox capped at `dailyCap`, and a lead. */
  async function messageSetup(through: Client, taskQueue: string, dailyCap: number) {
    const t = await createTenant(app, { customers: 1 });
    const u = await createUser(app);
    await addMember(app, t, u, 'owner');
    const agent = await signIn(testApp(app, { client: through, taskQueue }), u.email);
    const customer = t.customers[0]!.id;
    const inbox = await createSmtpInbox(agent, customer, smtp.port, { dailyCap });
    const campaign = await createCampaign(agent, customer, { inboxIds: [inbox] });
    await addLeads(agent, customer, campaign, [{ email: `${randomUUID()}@lead.example`, firstName: 'Lee' }]);
    const [lead] = (await withTenant(app, t.tenant.id, (m) => m.query('SELECT id FROM leads LIMIT 1'))) as { id: string }[];
    const send = async (subject: string) => {
      const res = await agent.post('/api/messages/send').set('X-Customer-Id', customer).send({ leadId: lead!.id, inboxId: inbox, subject, text: 'Hello.' });
      expect(res.status).toBe(202);
      return messageWorkflowId({ tenantId: t.tenant.id, messageId: res.body.id as string });
    };
    return { send };
  }

  test('sent', async () => {
    const taskQueue = uniqueTaskQueue('record');
    await withProjectWorker({ dataSource: app, taskQueue }, async () => {
      const { send } = await messageSetup(client, taskQueue, 10);
      const workflowId = await send('Recorded');
      expect(await client.workflow.getHandle(workflowId).result()).toEqual({ outcome: 'sent' });
      await record('sendMessage.sent', workflowId);
    });
  });

  test('queued until the inbox’s next day, then sent', async () => {
    const env = await createTimeSkippingEnv();
    const taskQueue = uniqueTaskQueue('record');
    try {
      await withProjectWorker({ dataSource: app, taskQueue, connection: env.nativeConnection }, async () => {
        const { send } = await messageSetup(env.client, taskQueue, 1);
        const first = await send('First');
        await until('the first sent', async () => ((await env.client.workflow.getHandle(first).describe()).status.name === 'COMPLETED' ? true : undefined));
        const second = await send('Second');
        // The cap is full: it waits on a timer until the next day, which the test server skips to.
        expect(await env.client.workflow.getHandle(second).result()).toEqual({ outcome: 'sent' });
        await record('sendMessage.queued-then-sent', second, { client: env.client });
      });
    } finally {
      await env.teardown();
    }
  });
});

test('exportEvents: completed in chunks', async () => {
  const t = await createTenant(owner, { customers: 1 });
  const customerId = t.customers[0]!.id;
  const exportId = newId('exp');
  const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-record-exports-'));
  await withTenant(app, t.tenant.id, async (m) => {
    await insertEvents(
      m,
      Array.from({ length: 5 }, (_, i) => ({
        type: 'lead.created' as const,
        occurredAt: new Date(Date.UTC(2024, 0, 1 + i)),
        customerId,
        dedupeKey: `recorded:${i}`,
      })),
    );
    await insertExport(m, {
      id: exportId,
      customerId,
      format: 'csv',
      filters: { from: '2024-01-01', to: '2024-02-01', timeZone: 'UTC' },
      linkKey: randomBytes(32),
    });
  });
  const taskQueue = uniqueTaskQueue('record');
  const options = exportEventsStartOptions({ tenantId: t.tenant.id, exportId, chunkRows: 2 }, taskQueue);
  try {
    await withProjectWorker({ dataSource: app, taskQueue, exportDir }, () => client.workflow.execute(exportEvents, options));
    await record('exportEvents.completed', options.workflowId);
  } finally {
    fs.rmSync(exportDir, { recursive: true, force: true });
  }
});

test('triggerScheduledAutomation: a tick records its run', async () => {
  const t = await createTenant(owner, { customers: 1 });
  const keyring = parseKeyring(`k1:${generateKey()}`, 'k1');
  const automation = await insertTriggerAutomation(app, t.tenant.id, keyring, {
    definitions: [{ trigger: { type: 'schedule', cron: '0 9 * * 1' }, steps: [] }],
  });
  const input = { tenantId: t.tenant.id, automationId: automation.id };
  const taskQueue = uniqueTaskQueue('record');
  // A schedule names each tick's workflow `{base}-{scheduled time}`.
  const workflowId = `${scheduledAutomationWorkflowId(input)}-2026-01-05T09:00:00Z`;
  await withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow.execute(triggerScheduledAutomation, { workflowId, taskQueue, args: [input], typedSearchAttributes: tenantSearchAttributes(t.tenant.id) }),
  );
  await record('triggerScheduledAutomation.completed', workflowId);
});

describe('automationRun', () => {
  let smtp: TestSmtpServer;
  let env: Awaited<ReturnType<typeof createTimeSkippingEnv>>;
  const taskQueue = uniqueTaskQueue('record');
  let webhookFails = false;
  const actions = {
    automationWebhookCall: async (input: WebhookCallInput) => {
      if (webhookFails) throw ApplicationFailure.nonRetryable('recorded refusal', WEBHOOK_HTTP_ERROR);
      return { status: 200, webhookId: `${input.runId}:${input.path}` };
    },
    automationNotify: async () => ({ userIds: [], mailed: 0 }),
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
    await smtp?.stop();
  });

  const onWorker = (fn: () => Promise<void>) =>
    withProjectWorker({ dataSource: app, taskQueue, connection: env.nativeConnection, activityOverrides: actions }, fn);
  const handleOf = (tenantId: string, automationId: string, runId: string) =>
    env.client.workflow.getHandle(automationRunWorkflowId({ tenantId, automationId, runId }));
  const waitingAt = (tenantId: string, runId: string, path: string) =>
    until(`the run waiting at ${path}`, async () => {
      const [row] = (await withTenant(app, tenantId, (m) => m.query('SELECT status, waiting_for FROM automation_runs WHERE id = $1', [runId]))) as {
        status: string;
        waiting_for: { path?: string } | null;
      }[];
      const [step] = (await withTenant(app, tenantId, (m) =>
        m.query('SELECT status FROM automation_run_steps WHERE run_id = $1 AND path = $2', [runId, path]),
      )) as {
        status: string;
      }[];
      return row?.status === 'waiting' && step?.status === 'waiting' ? true : undefined;
    });

  test('every step type, the reply branch taken', async () => {
    await onWorker(async () => {
      const s = await automationTenant(app, env.client, taskQueue, smtp.port, `${randomUUID()}@lead.example`);
      const campaign = await createCampaign(s.owner, s.customer, { inboxIds: [s.inbox] });
      const automation = await insertAutomation(app, s.tenantId, {
        trigger: { type: 'lead.created' },
        steps: [
          { type: 'wait', duration: '1h' },
          { type: 'send_message', inboxId: s.inbox, subject: 'Hi {{firstName}}', text: 'Recorded.' },
          { type: 'add_tag', tag: 'contacted' },
          {
            type: 'branch',
            condition: { in: ['contacted', { var: 'lead.tags' }] },
            then: [{ type: 'set_stage', stage: 'meeting' }],
            else: [{ type: 'remove_tag', tag: 'contacted' }],
          },
          { type: 'remove_tag', tag: 'contacted' },
          { type: 'enroll_in_campaign', campaignId: campaign },
          {
            type: 'wait_for',
            event: 'message.replied',
            timeout: '1d',
            onEvent: [{ type: 'notify', title: 'Replied', to: 'owners' }],
            onTimeout: [{ type: 'set_stage', stage: 'lost' }],
          },
          { type: 'webhook_call', url: 'https://crm.example/recorded' },
        ],
      });
      const runId = await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
      await admitRuns(app, env.client, taskQueue, s.tenantId);
      await waitingAt(s.tenantId, runId, '0');
      await env.sleep(3_600_000 + 60_000);
      await waitingAt(s.tenantId, runId, '6');
      const handle = handleOf(s.tenantId, automation, runId);
      await handle.signal(automationEventSignal, {
        eventId: 'aev_000000000000000000000recrd',
        type: 'message.replied',
        leadId: s.lead,
        occurredAt: new Date().toISOString(),
      });
      expect(await handle.result()).toEqual({ status: 'completed' });
      await record('automationRun.every-step', handle.workflowId, { client: env.client });
    });
  });

  test('failed at a webhook, then rerun from there; a dry run; a canceled run', async () => {
    await onWorker(async () => {
      const s = await automationTenant(app, env.client, taskQueue, smtp.port, `${randomUUID()}@lead.example`);
      const definition: Definition = {
        trigger: { type: 'lead.created' },
        steps: [
          { type: 'send_message', inboxId: s.inbox, subject: 'Once', text: 'Recorded.' },
          {
            type: 'wait_for',
            event: 'message.replied',
            timeout: '1h',
            onEvent: [{ type: 'add_tag', tag: 'replied' }],
            onTimeout: [{ type: 'add_tag', tag: 'silent' }],
          },
          { type: 'webhook_call', url: 'https://crm.example/recorded' },
          { type: 'set_stage', stage: 'meeting' },
        ],
      };
      const automation = await insertAutomation(app, s.tenantId, definition);
      webhookFails = true;
      const failed = await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });
      await admitRuns(app, env.client, taskQueue, s.tenantId);
      await until(
        'the failed run started',
        async () =>
          (await handleOf(s.tenantId, automation, failed)
            .describe()
            .catch(() => undefined)) ?? undefined,
      );
      expect(await handleOf(s.tenantId, automation, failed).result()).toMatchObject({ status: 'failed', step: '2' });
      await record('automationRun.failed', handleOf(s.tenantId, automation, failed).workflowId, { client: env.client });

      webhookFails = false;
      const rerun = await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer, rerunOf: failed });
      await admitRuns(app, env.client, taskQueue, s.tenantId);
      await until(
        'the rerun started',
        async () =>
          (await handleOf(s.tenantId, automation, rerun)
            .describe()
            .catch(() => undefined)) ?? undefined,
      );
      expect(await handleOf(s.tenantId, automation, rerun).result()).toEqual({ status: 'completed' });
      await record('automationRun.rerun', handleOf(s.tenantId, automation, rerun).workflowId, { client: env.client });

      const dry = await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer, dryRun: true });
      await admitRuns(app, env.client, taskQueue, s.tenantId);
      await until(
        'the dry run started',
        async () =>
          (await handleOf(s.tenantId, automation, dry)
            .describe()
            .catch(() => undefined)) ?? undefined,
      );
      expect(await handleOf(s.tenantId, automation, dry).result()).toEqual({ status: 'completed' });
      await record('automationRun.dry-run', handleOf(s.tenantId, automation, dry).workflowId, { client: env.client });

      const waits = await insertAutomation(app, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '2d' }] });
      const canceled = await queueRun(app, s.tenantId, { automationId: waits, version: 1, leadId: s.lead, customerId: s.customer });
      await admitRuns(app, env.client, taskQueue, s.tenantId);
      await waitingAt(s.tenantId, canceled, '0');
      const handle = handleOf(s.tenantId, waits, canceled);
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      await record('automationRun.canceled', handle.workflowId, { client: env.client });
    });
  });

  test('two runs wake under a limit of one: the second waits in the queue for its admission', async () => {
    await onWorker(async () => {
      const s = await automationTenant(app, env.client, taskQueue, smtp.port, `${randomUUID()}@lead.example`);
      await app.query('UPDATE tenants SET automation_max_running = 1 WHERE id = $1', [s.tenantId]);
      const automation = await insertAutomation(app, s.tenantId, {
        trigger: { type: 'manual' },
        steps: [
          { type: 'wait', duration: '1h' },
          { type: 'add_tag', tag: 'woke' },
        ],
      });
      const runs = [
        await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer }),
        await queueRun(app, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer }),
      ];
      await admitRuns(app, env.client, taskQueue, s.tenantId, 1);
      for (const id of runs) await waitingAt(s.tenantId, id, '0');
      const signalled: string[] = [];
      for (const id of runs) {
        const handle = handleOf(s.tenantId, automation, id);
        expect(await handle.result()).toEqual({ status: 'completed' });
        const history = await handle.fetchHistory();
        if (history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'automationAdmitted')) signalled.push(handle.workflowId);
      }
      expect(signalled).toHaveLength(1);
      await record('automationRun.admitted-after-wait', signalled[0]!, { client: env.client });
    });
  });
});
