// Campaigns, sequence snapshots and leads at the API: validation that writes
// nothing, lists per customer, no start without a customer context or a
// sequence, versioned snapshots, JSON and CSV imports with dedupe and
// suppression, cursor lists with filters and search, and logs without lead
// addresses or customer ids.
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { capturingLog, signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { ALWAYS_OPEN, createSmtpInbox } from '../test/helpers/outreach';

const suite = useSuiteDatabase('campaigns');
let ds: DataSource;
let a: TenantFixture;
let owner: Agent;
let inbox0: string;
let inbox1: string;
const { log, lines: logLines } = capturingLog();

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  [owner] = await signedInMembers(ds, testApp(ds, { log }), a, ['owner']);
  inbox0 = await createSmtpInbox(owner, c(0), 2525);
  inbox1 = await createSmtpInbox(owner, c(1), 2525);
});

const c = (i: number) => a.customers[i]!.id;
const count = async (table: string) =>
  Number(((await withTenant(ds, a.tenant.id, (m) => m.query(`SELECT count(*)::int AS n FROM ${table}`))) as { n: number }[])[0]!.n);
const berlin = { timezone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };

async function campaign(customer = 0, name = 'Autumn'): Promise<string> {
  const res = await owner
    .post('/api/campaigns')
    .set('X-Customer-Id', c(customer))
    .send({ name, inboxIds: [customer === 0 ? inbox0 : inbox1], schedule: berlin });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

it('creates a draft campaign with its inboxes and schedule', async () => {
  const res = await owner
    .post('/api/campaigns')
    .set('X-Customer-Id', c(0))
    .send({ name: 'Launch', inboxIds: [inbox0], schedule: berlin });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    id: expect.stringMatching(/^cmp_[0-9a-z]{26}$/),
    status: 'draft',
    inboxIds: [inbox0],
    schedule: berlin,
    sequenceVersion: null,
    customerId: c(0),
  });
});

it('refuses bad input with a clear error and writes nothing', async () => {
  const before = await count('campaigns');
  const cases: [object, string][] = [
    [{ name: 'x', inboxIds: [inbox0], schedule: { ...berlin, timezone: 'Mars/Olympus' } }, 'schedule.timezone'],
    [{ name: 'x', inboxIds: [inbox0], schedule: { ...berlin, start: '17:00', end: '09:00' } }, 'schedule.end'],
    [{ name: 'x', inboxIds: [inbox0], schedule: { ...berlin, days: [1, 1] } }, 'schedule.days'],
    [{ name: 'x', inboxIds: [inbox1], schedule: berlin }, 'inboxIds.0'], // another customer's inbox
    [{ name: 'x', inboxIds: [], schedule: berlin }, 'inboxIds'],
  ];
  for (const [body, path] of cases) {
    const res = await owner.post('/api/campaigns').set('X-Customer-Id', c(0)).send(body);
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  }
  expect(await count('campaigns')).toBe(before);
});

it('answers 400 invalid_customer_context for a customer the tenant does not have, and writes nothing', async () => {
  const before = await count('campaigns');
  for (const header of ['cust_00000000000000000000000000', 'prod-customer-1']) {
    const res = await owner
      .post('/api/campaigns')
      .set('X-Customer-Id', header)
      .send({ name: 'x', inboxIds: [inbox0], schedule: berlin });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_customer_context');
  }
  expect((await owner.post('/api/campaigns').send({ name: 'x', inboxIds: [inbox0], schedule: berlin })).body.error.code).toBe('invalid_customer_context');
  expect(await count('campaigns')).toBe(before);
});

it("lists only the selected customer's campaigns", async () => {
  const mine = await campaign(0, 'Mine');
  const theirs = await campaign(1, 'Theirs');
  const list0 = await owner.get('/api/campaigns').set('X-Customer-Id', c(0));
  const ids0 = list0.body.data.map((x: { id: string }) => x.id);
  expect(ids0).toContain(mine);
  expect(ids0).not.toContain(theirs);
  expect((await owner.get('/api/campaigns?q=Thei').set('X-Customer-Id', c(1))).body.data.map((x: { id: string }) => x.id)).toEqual([theirs]);
  expect((await owner.get('/api/campaigns')).status).toBe(400);
});

it('cannot start without a valid customer context or a sequence', async () => {
  const id = await campaign(0);
  expect((await owner.post(`/api/campaigns/${id}/status`).send({ status: 'active' })).status).toBe(404);
  expect((await owner.post(`/api/campaigns/${id}/status`).set('X-Customer-Id', c(1)).send({ status: 'active' })).status).toBe(404);
  const res = await owner.post(`/api/campaigns/${id}/status`).set('X-Customer-Id', c(0)).send({ status: 'active' });
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('no_sequence');
  expect((await owner.get(`/api/campaigns/${id}`).set('X-Customer-Id', c(0))).body.status).toBe('draft');
});

it('takes versioned sequence snapshots from a sequence or inline steps; editing the sequence later changes no snapshot', async () => {
  const id = await campaign(0);
  const seq = await owner.post('/api/sequences').set('X-Customer-Id', c(0)).send({ name: 'Source' });
  await owner.post(`/api/sequences/${seq.body.id}/steps`).set('X-Customer-Id', c(0)).send({ subject: 'Hi {{firstName}}', body: 'One', delayHours: 0 });
  await owner.post(`/api/sequences/${seq.body.id}/steps`).set('X-Customer-Id', c(0)).send({ subject: 'Again', body: 'Two', delayHours: 48 });
  const v1 = await owner.post(`/api/campaigns/${id}/sequence`).set('X-Customer-Id', c(0)).send({ sequenceId: seq.body.id });
  expect(v1.status).toBe(201);
  expect(v1.body).toMatchObject({
    version: 1,
    sourceSequenceId: seq.body.id,
    steps: [
      { position: 1, subject: 'Hi {{firstName}}', delayHours: 0 },
      { position: 2, delayHours: 48 },
    ],
  });

  await owner
    .put(`/api/sequences/${seq.body.id}/steps/${(await owner.get(`/api/sequences/${seq.body.id}`).set('X-Customer-Id', c(0))).body.steps[0].id}`)
    .set('X-Customer-Id', c(0))
    .send({ subject: 'Edited' });
  expect((await owner.get(`/api/campaigns/${id}/sequence`).set('X-Customer-Id', c(0))).body.steps[0].subject).toBe('Hi {{firstName}}');

  const v2 = await owner
    .post(`/api/campaigns/${id}/sequence`)
    .set('X-Customer-Id', c(0))
    .send({ steps: [{ subject: 'Only', body: 'x', delayHours: 0 }] });
  expect(v2.body.version).toBe(2);
  const current = await owner.get(`/api/campaigns/${id}/sequence`).set('X-Customer-Id', c(0));
  expect(current.body).toMatchObject({ version: 2, current: true, versions: [1, 2] });

  // Another customer's sequence, malformed templates: 400, no new version.
  const other = await owner.post('/api/sequences').set('X-Customer-Id', c(1)).send({ name: 'Other' });
  expect((await owner.post(`/api/campaigns/${id}/sequence`).set('X-Customer-Id', c(0)).send({ sequenceId: other.body.id })).status).toBe(400);
  expect(
    (
      await owner
        .post(`/api/campaigns/${id}/sequence`)
        .set('X-Customer-Id', c(0))
        .send({ steps: [{ subject: 'Hi {{first name}}', body: 'x', delayHours: 0 }] })
    ).status,
  ).toBe(400);
  expect((await owner.get(`/api/campaigns/${id}`).set('X-Customer-Id', c(0))).body.sequenceVersion).toBe(2);
});

describe('leads', () => {
  let id: string;
  beforeAll(async () => {
    id = await campaign(0, 'Leads');
  });

  it('imports JSON, deduplicating by e-mail per customer and skipping suppressed addresses', async () => {
    await withTenant(ds, a.tenant.id, (m) =>
      m.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES (current_setting('app.tenant_id')::uuid, 'gone@lead.example', 'unsubscribed')"),
    );
    const res = await owner
      .post(`/api/campaigns/${id}/leads`)
      .set('X-Customer-Id', c(0))
      .send({
        leads: [
          { email: 'Ann@Lead.example', firstName: 'Ann' },
          { email: 'ann@lead.example' },
          { email: 'gone@lead.example' },
          { email: 'ben@lead.example', firstName: 'Ben', jobTitle: 'CTO' },
        ],
      });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 2, skipped: 2, skippedReasons: { duplicateInImport: 1, suppressed: 1 } });
    // The same addresses again: already in the campaign.
    const again = await owner
      .post(`/api/campaigns/${id}/leads`)
      .set('X-Customer-Id', c(0))
      .send({ leads: [{ email: 'ann@lead.example' }] });
    expect(again.body).toMatchObject({ added: 0, skipped: 1, skippedReasons: { alreadyInCampaign: 1 } });
  });

  it('imports CSV with header variants and custom columns as template fields', async () => {
    const csv = 'Email,First Name,Last Name,Company,Job Title\ncara@lead.example,Cara,Cole,"Cole, Inc.",CEO\ndan@lead.example,Dan,,Dunn Ltd,\n';
    const res = await owner.post(`/api/campaigns/${id}/leads`).set('X-Customer-Id', c(0)).set('content-type', 'text/csv').send(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ added: 2, skipped: 0 });
    const list = await owner.get('/api/leads?source=csv&q=cara').set('X-Customer-Id', c(0));
    expect(list.body.data).toEqual([
      expect.objectContaining({
        email: 'cara@lead.example',
        firstName: 'Cara',
        lastName: 'Cole',
        company: 'Cole, Inc.',
        fields: { jobTitle: 'CEO' },
        source: 'csv',
      }),
    ]);
  });

  it('refuses an import with an invalid address, a broken CSV or another content type, and writes nothing', async () => {
    const before = [await count('leads'), await count('enrollments')];
    const bad = await owner
      .post(`/api/campaigns/${id}/leads`)
      .set('X-Customer-Id', c(0))
      .send({ leads: [{ email: 'ok@lead.example' }, { email: 'not-an-address' }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'leads.1.email' })]);
    const badCsv = await owner
      .post(`/api/campaigns/${id}/leads`)
      .set('X-Customer-Id', c(0))
      .set('content-type', 'text/csv')
      .send('email,firstName\nx@lead.example,"unterminated\n');
    expect(badCsv.status).toBe(400);
    expect(badCsv.body.error.code).toBe('invalid_csv');
    const rowError = await owner
      .post(`/api/campaigns/${id}/leads`)
      .set('X-Customer-Id', c(0))
      .set('content-type', 'text/csv')
      .send('email\nfine@lead.example\nnope\n');
    expect(rowError.body.error.details[0].message).toContain('row 3');
    expect((await owner.post(`/api/campaigns/${id}/leads`).set('X-Customer-Id', c(0)).set('content-type', 'text/plain').send('email\nx@y.z')).status).toBe(415);
    expect([await count('leads'), await count('enrollments')]).toEqual(before);
  });

  it("lists the campaign's leads with cursor pagination, status filter and search", async () => {
    const first = await owner.get(`/api/campaigns/${id}/leads?limit=2`).set('X-Customer-Id', c(0));
    expect(first.body.data).toHaveLength(2);
    const second = await owner.get(`/api/campaigns/${id}/leads?limit=2&cursor=${first.body.nextCursor}`).set('X-Customer-Id', c(0));
    const all = [...first.body.data, ...second.body.data].map((l: { email: string }) => l.email);
    expect(new Set(all)).toEqual(new Set(['ann@lead.example', 'ben@lead.example', 'cara@lead.example', 'dan@lead.example']));
    expect((await owner.get(`/api/campaigns/${id}/leads?status=pending`).set('X-Customer-Id', c(0))).body.data).toHaveLength(4);
    expect((await owner.get(`/api/campaigns/${id}/leads?status=active`).set('X-Customer-Id', c(0))).body.data).toHaveLength(0);
    expect((await owner.get(`/api/campaigns/${id}/leads?q=dunn`).set('X-Customer-Id', c(0))).body.data.map((l: { email: string }) => l.email)).toEqual([
      'dan@lead.example',
    ]);
    expect((await owner.get(`/api/campaigns/${id}/leads?status=bogus`).set('X-Customer-Id', c(0))).status).toBe(400);
  });

  it('reads, corrects and deletes a lead only within its customer', async () => {
    const [lead] = (await owner.get('/api/leads?q=ben').set('X-Customer-Id', c(0))).body.data as { id: string }[];
    expect((await owner.get(`/api/leads/${lead!.id}`).set('X-Customer-Id', c(1))).status).toBe(404);
    const got = await owner.get(`/api/leads/${lead!.id}`).set('X-Customer-Id', c(0));
    expect(got.body).toMatchObject({
      email: 'ben@lead.example',
      fields: { jobTitle: 'CTO' },
      enrollments: [expect.objectContaining({ campaignId: id, status: 'pending' })],
    });
    const patched = await owner
      .patch(`/api/leads/${lead!.id}`)
      .set('X-Customer-Id', c(0))
      .send({ company: 'Bright', fields: { city: 'Bonn' } });
    expect(patched.body).toMatchObject({ company: 'Bright', fields: { jobTitle: 'CTO', city: 'Bonn' } });
    expect(
      (
        await owner
          .patch(`/api/leads/${lead!.id}`)
          .set('X-Customer-Id', c(0))
          .send({ fields: { 'bad key': 'x' } })
      ).status,
    ).toBe(400);
    expect((await owner.get(`/api/leads?campaign=${id}`).set('X-Customer-Id', c(0))).body.data).toHaveLength(4);
    expect((await owner.delete(`/api/leads/${lead!.id}`).set('X-Customer-Id', c(1))).status).toBe(404);
    expect((await owner.delete(`/api/leads/${lead!.id}`).set('X-Customer-Id', c(0))).status).toBe(204);
    expect((await owner.get(`/api/leads?campaign=${id}`).set('X-Customer-Id', c(0))).body.data).toHaveLength(3);
  });
});

it('logs routes by pattern, never a lead address, a customer id or message content', () => {
  const all = logLines.join('\n');
  expect(all).toContain('/api/campaigns/:id/leads');
  for (const secret of ['ann@lead.example', 'cara@lead.example', 'Cole, Inc.', 'Hi {{firstName}}', c(0), c(1)]) expect(all).not.toContain(secret);
});

it('uses ALWAYS_OPEN as a valid schedule', async () => {
  const res = await owner
    .post('/api/campaigns')
    .set('X-Customer-Id', c(0))
    .send({ name: 'Always', inboxIds: [inbox0], schedule: ALWAYS_OPEN });
  expect(res.status).toBe(201);
});

it('will not delete an inbox a live campaign sends from', async () => {
  const inbox = await createSmtpInbox(owner, c(0), 2525);
  const res = await owner
    .post('/api/campaigns')
    .set('X-Customer-Id', c(0))
    .send({ name: 'Uses inbox', inboxIds: [inbox], schedule: berlin });
  const refused = await owner.delete(`/api/inboxes/${inbox}`).set('X-Customer-Id', c(0));
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('inbox_in_use');
  await owner.post(`/api/campaigns/${res.body.id}/status`).set('X-Customer-Id', c(0)).send({ status: 'archived' });
  expect((await owner.delete(`/api/inboxes/${inbox}`).set('X-Customer-Id', c(0))).status).toBe(204);
  expect((await owner.get(`/api/campaigns/${res.body.id}`).set('X-Customer-Id', c(0))).body.inboxIds).toEqual([]);
});
