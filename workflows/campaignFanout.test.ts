// The campaign fan-out (issue 11): starting, pausing, resuming and archiving a
// campaign commits the campaign's row and returns; the fan-out workflow then
// moves the enrollments in batches and starts or signals their workflows, with
// its progress in the campaign's stats while it runs. 600 leads at a batch of
// 250 take three batches; every enrollment workflow ends up in the state the
// campaign asked for, exactly one run each.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createWorker } from '../worker/createWorker';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { connectClient, projectWorkflowBundle, quietRuntime, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, until } from '../test/helpers/outreach';
import { TEST_OUTBOUND } from '../test/helpers/smtp';
import { campaignFanoutWorkflowId, enrollmentWorkflowId } from './ids';
import { statusQuery } from './enrollLead.shared';
import { FANOUT_MOVES, mergeActions } from './campaignFanout.shared';

jest.setTimeout(240_000);

let db: TestDatabase;
let ds: DataSource;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let running: Promise<void>;
let t: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  db = await createTestDatabase('fanout');
  ds = await openDataSource(db.appUrl, 'tenantflow-fanout-test');
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  const taskQueue = uniqueTaskQueue('fanout');
  quietRuntime();
  workerConnection = await NativeConnection.connect({ address: temporalAddress() });
  worker = await createWorker({
    connection: workerConnection,
    namespace: 'default',
    taskQueue,
    activities: { dataSource: ds, outbound: TEST_OUTBOUND },
    workflowBundle: await projectWorkflowBundle(),
  });
  running = worker.run();
  const api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue });
  t = await createTenant(ds, { customers: 1 });
  const o = await createUser(ds);
  await addMember(ds, t, o, 'owner');
  owner = await signIn(api, o.email);
});

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await workerConnection?.close();
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

async function fanoutBatches(campaign: string): Promise<number> {
  const history = await client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId: t.tenant.id, campaignId: campaign })).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fanOutCampaignBatch').length;
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
  // Every workflow ran its first steps: its row holds the day-later send.
  await until(
    'every enrollment waiting on its timer',
    async () => {
      const [row] = (await withTenant(ds, t.tenant.id, (m) =>
        m.query("SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND status = 'active' AND next_send_at IS NOT NULL", [campaign]),
      )) as { n: number }[];
      return row!.n === LEADS;
    },
    120_000,
  );
  expect(await fanoutBatches(campaign)).toBe(Math.ceil(LEADS / 250));
  const leadIds = (
    (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT lead_id FROM enrollments WHERE campaign_id = $1 ORDER BY id', [campaign]))) as {
      lead_id: string;
    }[]
  ).map((r) => r.lead_id);
  const sample = [leadIds[0]!, leadIds[299]!, leadIds[LEADS - 1]!].map((leadId) =>
    client.workflow.getHandle(enrollmentWorkflowId({ tenantId: t.tenant.id, campaignId: campaign, leadId })),
  );
  const states = () => Promise.all(sample.map((h) => h.query(statusQuery).then((s) => s.state)));
  expect(await states()).toEqual(['waiting', 'waiting', 'waiting']);

  // Pause, then resume: rows and workflows follow.
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

it('a resume that arrives during a start keeps waking paused enrollments, and every action moves only its own statuses', () => {
  expect(mergeActions('resume', 'start')).toBe('resume');
  expect(mergeActions('start', 'pause')).toBe('pause');
  expect(mergeActions(null, 'start')).toBe('start');
  expect(FANOUT_MOVES.start.from).toEqual(['pending']);
  expect(FANOUT_MOVES.pause.from).toEqual(['active']);
});
