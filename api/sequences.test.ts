// The sequences module at the API: every sequence and step mutation is scoped
// to the caller's customer (404 across customers), a missing or wrong
// X-Customer-Id is a 404 too, creating under a customer the tenant does not
// have is 400 invalid_customer_context, and nothing logs customer ids or
// message content.
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { capturingLog, signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('sequences');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let ownerB: Agent;
// Every log line the API writes, at the most verbose level.
const { log, lines: logLines } = capturingLog();

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  b = await createTenant(ds, { customers: 1 });
  const api = testApp(ds, { log });
  [owner] = await signedInMembers(ds, api, a, ['owner']);
  [ownerB] = await signedInMembers(ds, api, b, ['owner']);
});

const cust = (i = 0) => a.customers[i]!.id;
async function sequence(customerId = cust(0), name = 'Welcome'): Promise<string> {
  const res = await owner.post('/api/sequences').set('X-Customer-Id', customerId).send({ name });
  expect(res.status).toBe(201);
  return res.body.id as string;
}
async function step(seqId: string, customerId = cust(0)): Promise<string> {
  const res = await owner
    .post(`/api/sequences/${seqId}/steps`)
    .set('X-Customer-Id', customerId)
    .send({ subject: 'Hi {{firstName}}', body: 'Hello {{ firstName }} from {{company}}', delayHours: 0 });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

it('creates a sequence for the customer in X-Customer-Id and lists it only for that customer', async () => {
  const res = await owner.post('/api/sequences').set('X-Customer-Id', cust(0)).send({ name: 'Onboarding' });
  expect(res.status).toBe(201);
  expect(res.body.id).toMatch(/^seq_[0-9a-z]{26}$/);
  expect(res.body.customerId).toBe(cust(0));
  const mine = await owner.get('/api/sequences').set('X-Customer-Id', cust(0));
  expect(mine.body.data.map((s: { id: string }) => s.id)).toContain(res.body.id);
  const theirs = await owner.get('/api/sequences').set('X-Customer-Id', cust(1));
  expect(theirs.body.data.map((s: { id: string }) => s.id)).not.toContain(res.body.id);
});

it('PUT with another customer, a wrong or a missing X-Customer-Id is 404; the same customer is 200', async () => {
  const id = await sequence();
  expect((await owner.put(`/api/sequences/${id}`).set('X-Customer-Id', cust(1)).send({ name: 'x' })).status).toBe(404);
  expect((await owner.put(`/api/sequences/${id}`).set('X-Customer-Id', 'cust_nope').send({ name: 'x' })).status).toBe(404);
  expect((await owner.put(`/api/sequences/${id}`).send({ name: 'x' })).status).toBe(404);
  expect((await ownerB.put(`/api/sequences/${id}`).set('X-Customer-Id', b.customers[0]!.id).send({ name: 'x' })).status).toBe(404);
  const ok = await owner.put(`/api/sequences/${id}`).set('X-Customer-Id', cust(0)).send({ name: 'Renamed' });
  expect(ok.status).toBe(200);
  expect(ok.body.name).toBe('Renamed');
});

it('DELETE with another customer is 404; the same customer deletes', async () => {
  const id = await sequence();
  expect((await owner.delete(`/api/sequences/${id}`).set('X-Customer-Id', cust(1))).status).toBe(404);
  expect((await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0))).status).toBe(200);
  expect((await owner.delete(`/api/sequences/${id}`).set('X-Customer-Id', cust(0))).status).toBe(204);
  expect((await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0))).status).toBe(404);
});

it("step create, update and delete on another customer's sequence are 404", async () => {
  const id = await sequence();
  const stepId = await step(id);
  expect((await owner.post(`/api/sequences/${id}/steps`).set('X-Customer-Id', cust(1)).send({ subject: 's', body: 'b', delayHours: 1 })).status).toBe(404);
  expect((await owner.put(`/api/sequences/${id}/steps/${stepId}`).set('X-Customer-Id', cust(1)).send({ subject: 'changed' })).status).toBe(404);
  expect((await owner.delete(`/api/sequences/${id}/steps/${stepId}`).set('X-Customer-Id', cust(1))).status).toBe(404);
  const unchanged = await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0));
  expect(unchanged.body.steps).toHaveLength(1);
  expect(unchanged.body.steps[0].subject).toBe('Hi {{firstName}}');
});

it('creating with a customer the tenant does not have is 400 invalid_customer_context, and writes nothing', async () => {
  const count = async () => Number((await ds.query('SELECT count(*)::int AS n FROM sequences'))[0].n); // RLS: no context → 0 either way
  for (const header of [newId('cust'), b.customers[0]!.id, 'prod-customer-1']) {
    const res = await owner.post('/api/sequences').set('X-Customer-Id', header).send({ name: 'Ghost' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_customer_context');
  }
  const missing = await owner.post('/api/sequences').send({ name: 'Ghost' });
  expect(missing.body.error.code).toBe('invalid_customer_context');
  expect(await count()).toBe(0);
  const ghosts = await owner.get('/api/sequences?q=Ghost').set('X-Customer-Id', cust(0));
  expect(ghosts.body.data).toEqual([]);
});

it('keeps steps ordered, reports template variables, and refuses malformed templates', async () => {
  const id = await sequence();
  const first = await step(id);
  const second = await step(id);
  const third = await step(id);
  expect((await owner.delete(`/api/sequences/${id}/steps/${second}`).set('X-Customer-Id', cust(0))).status).toBe(204);
  const seq = await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0));
  expect(seq.body.steps.map((s: { id: string; position: number }) => [s.id, s.position])).toEqual([
    [first, 1],
    [third, 2],
  ]);
  expect(seq.body.steps[0].variables).toEqual(['firstName', 'company']);
  const bad = await owner.post(`/api/sequences/${id}/steps`).set('X-Customer-Id', cust(0)).send({ subject: 'Hi {{first name}}', body: 'x', delayHours: 0 });
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0].path).toBe('subject');
});

/** A lead of the customer with custom fields, written as an import writes it. */
async function leadWith(customerId: string, fields: Record<string, string>) {
  await withTenant(ds, a.tenant.id, (m) =>
    m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, fields, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb, 'api')",
      [newId('lead'), customerId, `${newId('usr')}@lead.example`, JSON.stringify(fields)],
    ),
  );
}

it("refuses a step using a variable no lead of the customer has, naming the field, and writes nothing; the customer's custom fields are known", async () => {
  const id = await sequence(cust(0), 'Variables');
  const stepId = await step(id);
  await leadWith(cust(0), { jobTitle: 'CTO' });
  await leadWith(cust(1), { industry: 'Golf' }); // another customer's lead: not a field of this customer's leads
  const steps = async () => (await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0))).body.steps as { subject: string; body: string }[];
  const before = await steps();

  const refused = await owner
    .post(`/api/sequences/${id}/steps`)
    .set('X-Customer-Id', cust(0))
    .send({ subject: 'For {{firstName}}', body: 'Hi, news for {{industry}}', delayHours: 0 });
  expect(refused.status).toBe(400);
  expect(refused.body.error.details).toEqual([
    {
      path: 'body',
      code: 'unknown_variable',
      message:
        '{{industry}} is not a lead field. Use firstName, lastName, company, email, or a custom field your leads have (they have jobTitle; industry is not one yet).',
    },
  ]);
  const changed = await owner
    .put(`/api/sequences/${id}/steps/${stepId}`)
    .set('X-Customer-Id', cust(0))
    .send({ subject: '{{industry}} and {{city}}', body: 'Hello {{firstName}}' });
  expect(changed.status).toBe(400);
  expect(changed.body.error.details.map((d: { path: string }) => d.path)).toEqual(['subject']);
  expect(changed.body.error.details[0].message).toContain('{{industry}} and {{city}} are not lead fields');
  expect(await steps()).toEqual(before);

  // A custom field the customer's leads have, and the lead's columns, are accepted.
  const ok = await owner
    .post(`/api/sequences/${id}/steps`)
    .set('X-Customer-Id', cust(0))
    .send({ subject: 'A note for {{jobTitle}}s', body: '{{firstName}} {{lastName}} at {{company}} ({{email}})', delayHours: 0 });
  expect(ok.status).toBe(201);
  const seq = await owner.get(`/api/sequences/${id}`).set('X-Customer-Id', cust(0));
  expect(seq.body.availableVariables).toEqual(['firstName', 'lastName', 'company', 'email', 'jobTitle']);
  expect(seq.body.steps).toHaveLength(2);
});

it('logs carry no customer ids and no message content', async () => {
  const id = await sequence(cust(1), 'Secret campaign name');
  await owner
    .post(`/api/sequences/${id}/steps`)
    .set('X-Customer-Id', cust(1))
    .send({ subject: 'Confidential subject line', body: 'Private body text', delayHours: 2 });
  await owner.put(`/api/sequences/${id}`).set('X-Customer-Id', cust(0)).send({ name: 'x' }); // a 404, logged or not
  const all = logLines.join('\n');
  // There are logs, and they say who and what, by pattern…
  const requests = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
  expect(requests.length).toBeGreaterThan(3);
  expect(requests).toContainEqual(
    expect.objectContaining({
      route: '/api/sequences/:id/steps',
      status: 201,
      tenantId: a.tenant.id,
      requestId: expect.any(String),
      userId: expect.any(String),
    }),
  );
  // …but never which customer, and never what was written.
  expect(all).not.toContain(cust(1));
  expect(all).not.toContain(cust(0));
  expect(all).not.toContain('Confidential subject line');
  expect(all).not.toContain('Private body text');
});
