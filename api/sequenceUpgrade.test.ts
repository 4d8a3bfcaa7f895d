// Moving a campaign's running leads to its latest sequence version, through
// the API, on the time-skipping server with the project's worker, a real
// database and SMTP: a lead on version 1 that waits two days for step 2 is
// moved to version 2, whose step 2 has a new subject and which has a step 3,
// and receives both; the step it already had is not sent again. The same
// holds when the rows were moved but no signal reached the workflows.
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { type DataSource } from 'typeorm';
import { moveRunningToVersion } from '../db/enrollments';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { createTimeSkippingEnv, startProjectWorker, uniqueTaskQueue } from '../test/helpers/temporal';
import { enrollmentWorkflowId } from '../workflows/ids';
import { statusQuery } from '../workflows/enrollLead.contract';

let db: TestDatabase;
let ds: DataSource;
let env: TestWorkflowEnvironment;
let worker: { stop(): Promise<void> };
let smtp: TestSmtpServer;
let t: TenantFixture;
let owner: Agent;
let viewer: Agent;
let inbox: string;

beforeAll(async () => {
  db = await createTestDatabase('sequence_upgrade');
  ds = await openDataSource(db.appUrl, 'tenantflow-sequence-upgrade-test');
  env = await createTimeSkippingEnv();
  smtp = await startSmtpServer();
  const taskQueue = uniqueTaskQueue('upgrade');
  worker = await startProjectWorker({ dataSource: ds, taskQueue, connection: env.nativeConnection });
  const api = testApp(ds, { client: env.client, taskQueue });
  t = await createTenant(ds, { customers: 1 });
  const [o, v] = [await createUser(ds), await createUser(ds)];
  await addMember(ds, t, o, 'owner');
  await addMember(ds, t, v, 'viewer');
  owner = await signIn(api, o.email);
  viewer = await signIn(api, v.email);
  inbox = await createSmtpInbox(owner, customer(), smtp.port);
});

afterAll(async () => {
  await worker?.stop();
  await env?.teardown();
  await smtp?.stop();
  await ds?.destroy();
  await db?.drop();
});

const customer = () => t.customers[0]!.id;
const mailsTo = (to: string) => smtp.received.filter((m) => m.envelope.to.includes(to));
const running = (campaign: string, agent = owner) => agent.get(`/api/campaigns/${campaign}/sequence/running`).set('X-Customer-Id', customer());
const upgrade = (campaign: string, agent = owner) => agent.post(`/api/campaigns/${campaign}/sequence/upgrade`).set('X-Customer-Id', customer());

it('moves a lead waiting on version 1 to version 2: it gets version 2’s step 2, and step 1 is not sent again', async () => {
  const campaign = await createCampaign(owner, customer(), {
    inboxIds: [inbox],
    steps: [
      { subject: 'v1 first {{firstName}}', body: 'One', delayHours: 0 },
      { subject: 'v1 second', body: 'Two', delayHours: 48 },
    ],
  });
  const email = `upgrade-${Date.now().toString(36)}@lead.example`;
  await addLeads(owner, customer(), campaign, [{ email, firstName: 'Uma' }]);
  await setCampaignStatus(owner, customer(), campaign, 'active');
  await until('step 1', async () => mailsTo(email).length === 1);
  const [row] = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT lead_id FROM enrollments WHERE campaign_id = $1', [campaign]))) as {
    lead_id: string;
  }[];
  const handle = env.client.workflow.getHandle(enrollmentWorkflowId({ tenantId: t.tenant.id, campaignId: campaign, leadId: row!.lead_id }));
  // Polling does not skip time: the lead waits for step 2, two days away.
  await until('step 2 waits', async () => (await handle.query(statusQuery).catch(() => undefined))?.step === 2);

  // Nothing newer yet: the action is refused in plain words.
  expect((await running(campaign)).body).toEqual({ latest: 1, running: [{ version: 1, leads: 1 }], behind: 0 });
  const none = await upgrade(campaign);
  expect(none.status).toBe(409);
  expect(none.body.error.message).toBe('every running lead already uses version 1, the latest');

  const v2 = await owner
    .post(`/api/campaigns/${campaign}/sequence`)
    .set('X-Customer-Id', customer())
    .send({
      steps: [
        { subject: 'v2 first {{firstName}}', body: 'One again', delayHours: 0 },
        { subject: 'v2 second {{firstName}}', body: 'Two, newer', delayHours: 24 },
        { subject: 'v2 third', body: 'Three', delayHours: 24 },
      ],
    });
  expect(v2.body.version).toBe(2);
  // Taking a version moves no one: the lead still runs version 1.
  expect((await running(campaign)).body).toEqual({ latest: 2, running: [{ version: 1, leads: 1 }], behind: 1 });
  expect((await running(campaign, viewer)).status).toBe(200);
  expect((await upgrade(campaign, viewer)).status).toBe(403);

  const moved = await upgrade(campaign);
  expect(moved.status).toBe(200);
  expect(moved.body).toEqual({ version: 2, moved: 1 });
  expect((await running(campaign)).body).toEqual({ latest: 2, running: [{ version: 2, leads: 1 }], behind: 0 });
  expect((await upgrade(campaign)).status).toBe(409);

  // The time-skipping server runs the waits of version 2's steps 2 and 3
  // (version 1 had no step 3: the workflow follows the new plan).
  expect(await handle.result()).toMatchObject({ state: 'completed', sent: 3, step: 3 });
  expect(mailsTo(email).map((m) => m.parsed.subject)).toEqual(['v1 first Uma', 'v2 second Uma', 'v2 third']);
  const [after] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query('SELECT status, sequence_version FROM enrollments WHERE campaign_id = $1', [campaign]),
  )) as { status: string; sequence_version: number }[];
  expect(after).toEqual({ status: 'completed', sequence_version: 2 });
});

// The rows moved but no signal sent (the API process died after the commit,
// or the signal failed): the send of the old plan's step finds its row on
// another version, sends nothing and makes the workflow load its plan again.
describe('moved without the sequenceChanged signal', () => {
  /** Starts a campaign on `v1` for one lead and waits until step 1 is sent and step 2 waits. */
  async function leadWaitingOnStep2(steps: { subject: string; body: string; delayHours: number }[]) {
    const campaign = await createCampaign(owner, customer(), { inboxIds: [inbox], steps });
    const email = `silent-${Math.random().toString(36).slice(2)}@lead.example`;
    await addLeads(owner, customer(), campaign, [{ email, firstName: 'Sid' }]);
    await setCampaignStatus(owner, customer(), campaign, 'active');
    await until('step 1', async () => mailsTo(email).length === 1);
    const [row] = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT lead_id FROM enrollments WHERE campaign_id = $1', [campaign]))) as {
      lead_id: string;
    }[];
    const handle = env.client.workflow.getHandle(enrollmentWorkflowId({ tenantId: t.tenant.id, campaignId: campaign, leadId: row!.lead_id }));
    await until('step 2 waits', async () => (await handle.query(statusQuery).catch(() => undefined))?.step === 2);
    return { campaign, email, handle };
  }

  /** Takes `steps` as the campaign's next version and moves its running rows to it in a transaction of their own: no signal. */
  async function moveSilently(campaign: string, steps: { subject: string; body: string; delayHours: number }[]) {
    const next = await owner.post(`/api/campaigns/${campaign}/sequence`).set('X-Customer-Id', customer()).send({ steps });
    expect(next.status).toBe(201);
    const moved = await withTenant(ds, t.tenant.id, (m) => moveRunningToVersion(m, campaign, next.body.version as number));
    expect(moved).toHaveLength(1);
    // Nothing is left behind, so a retry of the upgrade has nothing to signal.
    expect((await upgrade(campaign)).status).toBe(409);
  }

  const rowOf = async (campaign: string) =>
    (
      (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT status, sequence_version FROM enrollments WHERE campaign_id = $1', [campaign]))) as {
        status: string;
        sequence_version: number;
      }[]
    )[0];

  it('the lead still gets the new version’s steps, and no step is sent twice', async () => {
    const { campaign, email, handle } = await leadWaitingOnStep2([
      { subject: 's1 first {{firstName}}', body: 'One', delayHours: 0 },
      { subject: 's1 second', body: 'Two', delayHours: 48 },
    ]);
    await moveSilently(campaign, [
      { subject: 's2 first {{firstName}}', body: 'One again', delayHours: 0 },
      { subject: 's2 second {{firstName}}', body: 'Two, newer', delayHours: 24 },
      { subject: 's2 third', body: 'Three', delayHours: 24 },
    ]);

    expect(await handle.result()).toMatchObject({ state: 'completed', sent: 3, step: 3 });
    expect(mailsTo(email).map((m) => m.parsed.subject)).toEqual(['s1 first Sid', 's2 second Sid', 's2 third']);
    expect(await rowOf(campaign)).toEqual({ status: 'completed', sequence_version: 2 });
  });

  it('a new version without the step the old plan waits for completes rather than fails', async () => {
    const { campaign, email, handle } = await leadWaitingOnStep2([
      { subject: 'f1 first {{firstName}}', body: 'One', delayHours: 0 },
      { subject: 'f1 second', body: 'Two', delayHours: 48 },
      { subject: 'f1 third', body: 'Three', delayHours: 24 },
    ]);
    await moveSilently(campaign, [{ subject: 'f2 only {{firstName}}', body: 'Only', delayHours: 0 }]);

    expect(await handle.result()).toMatchObject({ state: 'completed', sent: 1 });
    expect(mailsTo(email).map((m) => m.parsed.subject)).toEqual(['f1 first Sid']);
    expect(await rowOf(campaign)).toEqual({ status: 'completed', sequence_version: 2 });
  });
});
