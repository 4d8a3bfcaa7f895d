// Leads a campaign cannot send to yet, at the API with the project's worker
// and a real SMTP server: the readiness list names the leads that lack a
// value before the campaign starts; after the start they pause at the step;
// the bulk "fix and resume" saves the values given and resumes only the
// enrollments whose lead now has every value — and those are then sent —
// refusing a lead outside the campaign with nothing written. A CSV
// re-import with update=true replaces the values of leads already present.
import { Client, Connection } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { addLeads, createCampaign, createSmtpInbox, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';

jest.setTimeout(180_000);

const suite = useSuiteDatabase('leadfixes');
let ds: DataSource;
let apiTemporal: Connection;
let worker: { stop(): Promise<void> };
let smtp: TestSmtpServer;
let a: TenantFixture;
let owner: Agent;
let inbox: string;

beforeAll(async () => {
  ds = suite.ds;
  smtp = await startSmtpServer();
  const taskQueue = uniqueTaskQueue('leadfixes');
  worker = await startProjectWorker({ taskQueue, dataSource: ds });
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  a = await createTenant(ds, { customers: 2 });
  [owner] = await signedInMembers(ds, testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue }), a, ['owner']);
  inbox = await createSmtpInbox(owner, c(0), smtp.port);
});

afterAll(async () => {
  await worker?.stop();
  await apiTemporal?.close();
  await smtp?.stop();
});

const c = (i: number) => a.customers[i]!.id;
const mailsTo = (to: string) => smtp.received.filter((m) => m.envelope.to.includes(to));
const STEPS = [{ subject: 'Hello {{firstName}}', body: 'A note on {{jobTitle}} work at {{company}}.', delayHours: 0 }];

async function leadIdOf(email: string): Promise<string> {
  const res = await owner.get(`/api/leads?q=${encodeURIComponent(email)}`).set('X-Customer-Id', c(0));
  return (res.body.data as { id: string; email: string }[]).find((l) => l.email === email)!.id;
}

async function enrollmentStatus(campaign: string, email: string): Promise<string> {
  const [row] = (await withTenant(ds, a.tenant.id, (m) =>
    m.query('SELECT e.status FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.campaign_id = $1 AND l.email = $2', [campaign, email]),
  )) as { status: string }[];
  return row!.status;
}

it('lists the leads lacking a value before the start; the fix-and-resume resumes only the fixed ones, which are then sent', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inbox], steps: STEPS, name: 'Fixes' });
  await addLeads(owner, c(0), campaign, [
    { email: 'ann@fix.example', firstName: 'Ann', company: 'Acme', jobTitle: 'data' },
    { email: 'ben@fix.example', company: 'Bolt', jobTitle: 'design' },
    { email: 'cy@fix.example', firstName: 'Cy', company: 'Core' },
  ]);

  const before = await owner.get(`/api/campaigns/${campaign}/readiness`).set('X-Customer-Id', c(0));
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({ sequenceVersion: 1, variables: ['firstName', 'jobTitle', 'company'], lacking: 2, pausedByError: 0 });
  const lacking = (before.body.leads as { email: string; missing: string[]; status: string }[]).map((l) => [l.email, l.missing, l.status]);
  expect(lacking.sort()).toEqual([
    ['ben@fix.example', ['firstName'], 'pending'],
    ['cy@fix.example', ['jobTitle'], 'pending'],
  ]);

  await setCampaignStatus(owner, c(0), campaign, 'active');
  await until('ann is sent', async () => mailsTo('ann@fix.example').length === 1);
  await until('ben and cy pause', async () =>
    (await enrollmentStatus(campaign, 'ben@fix.example')) === 'paused' && (await enrollmentStatus(campaign, 'cy@fix.example')) === 'paused' ? true : undefined,
  );
  const running = await owner.get(`/api/campaigns/${campaign}/readiness?status=paused`).set('X-Customer-Id', c(0));
  expect(running.body).toMatchObject({ lacking: 2, pausedByError: 2 });

  // A lead outside the campaign refuses the whole request: nothing written, nothing resumed.
  const ben = await leadIdOf('ben@fix.example');
  const other = await createCampaign(owner, c(0), { inboxIds: [inbox], steps: STEPS, name: 'Other' });
  await addLeads(owner, c(0), other, [{ email: 'dee@fix.example', firstName: 'Dee' }]);
  const refused = await owner
    .post(`/api/campaigns/${campaign}/leads/resume`)
    .set('X-Customer-Id', c(0))
    .send({
      leads: [
        { leadId: ben, firstName: 'Ben' },
        { leadId: await leadIdOf('dee@fix.example'), firstName: 'D' },
      ],
    });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details).toEqual([expect.objectContaining({ path: 'leads.1.leadId' })]);
  expect((await owner.get(`/api/leads/${ben}`).set('X-Customer-Id', c(0))).body.firstName).toBe('');
  expect(await enrollmentStatus(campaign, 'ben@fix.example')).toBe('paused');

  // Ben is fixed (Cy's blank input fills nothing in): Ben resumes and is sent, Cy stays paused.
  const fixed = await owner
    .post(`/api/campaigns/${campaign}/leads/resume`)
    .set('X-Customer-Id', c(0))
    .send({
      leads: [
        { leadId: ben, firstName: 'Ben' },
        { leadId: await leadIdOf('cy@fix.example'), fields: { jobTitle: ' ' } },
      ],
    });
  expect(fixed.status).toBe(200);
  expect(fixed.body).toMatchObject({ updated: 1, resumed: 1, stillMissing: 1 });
  expect(fixed.body.leads).toEqual([expect.objectContaining({ email: 'cy@fix.example', missing: ['jobTitle'], status: 'paused' })]);
  await until('ben is sent', async () => mailsTo('ben@fix.example').length === 1);
  expect(mailsTo('ben@fix.example')[0]!.parsed.subject).toBe('Hello Ben');
  expect(mailsTo('cy@fix.example')).toHaveLength(0);
  expect(await enrollmentStatus(campaign, 'cy@fix.example')).toBe('paused');
  const after = await owner.get(`/api/campaigns/${campaign}/readiness`).set('X-Customer-Id', c(0));
  expect(after.body).toMatchObject({ lacking: 1, pausedByError: 1, leads: [expect.objectContaining({ email: 'cy@fix.example' })] });
});

it('a CSV re-import fills in only what was empty, and with update=true replaces values and reports added, updated and unchanged', async () => {
  const campaign = await createCampaign(owner, c(0), { inboxIds: [inbox], steps: STEPS, name: 'Reimport' });
  const post = (csv: string, query = '') =>
    owner.post(`/api/campaigns/${campaign}/leads${query}`).set('X-Customer-Id', c(0)).set('content-type', 'text/csv').send(csv);
  const first = await post('email,firstName,company\nel@re.example,El,Elm\nfin@re.example,Fin,\ngus@re.example,Gus,Gate\n');
  expect(first.body).toMatchObject({ added: 3, skipped: 0, updated: 0, unchanged: 0 });

  // Without update: only an empty value is filled in; a different one is kept.
  const fill = await post('email,firstName,company,Job Title\nel@re.example,Eleanor,Elm,\nfin@re.example,Fin,Fjord,\ngus@re.example,Gus,Gate,\n');
  expect(fill.body).toMatchObject({ added: 0, skipped: 3, updated: 1, unchanged: 2 });
  const el = await owner.get(`/api/leads/${await leadIdOf('el@re.example')}`).set('X-Customer-Id', c(0));
  expect(el.body).toMatchObject({ firstName: 'El', company: 'Elm' });

  const update = await post(
    'email,firstName,company,Job Title\nel@re.example,Eleanor,,CEO\nfin@re.example,Fin,Fjord,\nhal@re.example,Hal,Hill,\n',
    '?update=true',
  );
  expect(update.status).toBe(200);
  expect(update.body).toMatchObject({ added: 1, updated: 1, unchanged: 1 });
  const updated = await owner.get(`/api/leads/${await leadIdOf('el@re.example')}`).set('X-Customer-Id', c(0));
  expect(updated.body).toMatchObject({ firstName: 'Eleanor', company: 'Elm', fields: { jobTitle: 'CEO' } });
  expect((await post('email\nx@re.example\n', '?update=maybe')).status).toBe(400);
});
