// Automation definitions (docs/automations.md, "Definitions and versions"):
// create writes version 1 as a draft with a webhook secret shown once;
// versions are never changed, only added and published; publishing a sender
// needs messages.send; a restricted member works in its own customer only;
// what a definition names must be the automation's; bad input writes nothing.
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { newId } from '../db/ids';
import { generateKey, open, parseKeyring } from '../lib/encryption';
import { automationSecretAad } from '../lib/secretScopes';
import { buildOpenApi } from './routing';
import { routeSpecsOf } from './app';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const suite = useSuiteDatabase('automations');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let viewer: Agent;
let author: Agent;
let restricted: Agent;
let ownerB: Agent;
let inbox0: string;
let inbox1: string;

const c = (i: number) => a.customers[i]!.id;

async function customRole(agent: Agent, t: TenantFixture, key: string, permissions: string[]) {
  const res = await agent.post('/api/roles').send({ name: key, permissions });
  expect(res.status).toBe(201);
  t.roles[key] = res.body.id;
}

async function inboxOf(agent: Agent, customerId: string): Promise<string> {
  const res = await agent
    .post('/api/inboxes')
    .set('X-Customer-Id', customerId)
    .send({ provider: 'smartlead', fromEmail: `${newId('usr')}@sender.example`, dailyCap: 20 });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  b = await createTenant(ds, { customers: 1 });
  const app = testApp(ds, { keyring });
  [owner, viewer] = await signedInMembers(ds, app, a, ['owner', 'viewer']);
  [ownerB] = await signedInMembers(ds, app, b, ['owner']);
  await customRole(owner, a, 'automator', ['automations.read', 'automations.write']);
  [author, restricted] = await signedInMembers(ds, app, a, ['automator', ['automator', c(0)]]);
  inbox0 = await inboxOf(owner, c(0));
  inbox1 = await inboxOf(owner, c(1));
});

const tagging = { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'new-lead' }] };
const sending = (inboxId: string) => ({
  trigger: { type: 'lead.created' },
  steps: [
    { type: 'wait', duration: '2d' },
    { type: 'send_message', inboxId, subject: 'Hi {{firstName}}', text: 'Hello' },
    {
      type: 'wait_for',
      event: 'message.replied',
      timeout: '3d',
      onEvent: [{ type: 'set_stage', stage: 'interested' }],
      onTimeout: [{ type: 'notify', title: 'No reply', to: 'owners' }],
    },
  ],
});

const counts = (t: TenantFixture) =>
  withTenant(ds, t.tenant.id, async (m) => {
    const [row] = await m.query('SELECT (SELECT count(*) FROM automations)::int AS automations, (SELECT count(*) FROM automation_versions)::int AS versions');
    return row as { automations: number; versions: number };
  });

it('creates a draft version 1 with a sealed webhook secret shown once', async () => {
  const res = await owner.post('/api/automations').send({ name: 'Welcome', customerId: c(0), definition: sending(inbox0) });
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ customerId: c(0), name: 'Welcome', enabled: false, liveVersion: null, latestVersion: 1, triggerType: 'lead.created' });
  expect(res.body.webhookSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const [row] = await withTenant(ds, a.tenant.id, (m) => m.query('SELECT webhook_secret FROM automations WHERE id = $1', [res.body.id]));
  expect(JSON.stringify(row)).not.toContain(res.body.webhookSecret);
  expect(open(keyring, row.webhook_secret, automationSecretAad(a.tenant.id, res.body.id))).toBe(res.body.webhookSecret);
  const got = await owner.get(`/api/automations/${res.body.id}`);
  expect(got.status).toBe(200);
  expect(got.body.webhookSecret).toBeUndefined();
  // Rotating answers a new one, once.
  const rotated = await owner.post(`/api/automations/${res.body.id}/webhook-secret`);
  expect(rotated.status).toBe(200);
  expect(rotated.body.webhookSecret).not.toBe(res.body.webhookSecret);
});

it('adds versions, publishes one, enables only with a live version, and lists them', async () => {
  const id = (await owner.post('/api/automations').send({ name: 'Tagger', definition: tagging })).body.id;
  expect((await owner.post(`/api/automations/${id}/enable`)).status).toBe(409);
  const v2 = await owner.post(`/api/automations/${id}/versions`).send({ definition: { ...tagging, steps: [{ type: 'add_tag', tag: 'v2' }] } });
  expect(v2.status).toBe(201);
  expect(v2.body).toMatchObject({ version: 2, publishedAt: null });
  const published = await owner.post(`/api/automations/${id}/publish`).send({ version: 1 });
  expect(published.status).toBe(200);
  expect(published.body).toMatchObject({ liveVersion: 1, latestVersion: 2 });
  expect((await owner.post(`/api/automations/${id}/enable`)).body.enabled).toBe(true);
  expect((await owner.post(`/api/automations/${id}/disable`)).body.enabled).toBe(false);
  const versions = await viewer.get(`/api/automations/${id}/versions`);
  expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  expect(versions.body.data[1].publishedAt).not.toBeNull();
  expect((await viewer.get(`/api/automations/${id}/versions/2`)).body.definition.steps[0].tag).toBe('v2');
  expect((await viewer.get(`/api/automations/${id}/versions/9`)).status).toBe(404);
  expect((await viewer.get(`/api/automations/${id}/versions/x`)).status).toBe(404);
  expect((await owner.post(`/api/automations/${id}/publish`).send({ version: 7 })).status).toBe(400);
  // A viewer reads but does not write.
  expect((await viewer.post(`/api/automations/${id}/publish`).send({ version: 2 })).status).toBe(403);
  const audit = await withTenant(ds, a.tenant.id, (m) => m.query('SELECT action FROM audit_log WHERE target_id = $1 ORDER BY at', [id]));
  expect(audit.map((r: { action: string }) => r.action)).toEqual(
    expect.arrayContaining(['automation.created', 'automation.published', 'automation.enabled', 'automation.disabled']),
  );
  expect((await owner.delete(`/api/automations/${id}`)).status).toBe(204);
  expect((await owner.get(`/api/automations/${id}`)).status).toBe(404);
});

it('publishing a version that sends needs messages.send', async () => {
  const id = (await author.post('/api/automations').send({ name: 'Sender', customerId: c(0), definition: sending(inbox0) })).body.id;
  const denied = await author.post(`/api/automations/${id}/publish`).send({ version: 1 });
  expect(denied.status).toBe(403);
  expect(denied.body.error.details.permission).toBe('messages.send');
  expect((await owner.post(`/api/automations/${id}/publish`).send({ version: 1 })).status).toBe(200);
});

it('keeps a restricted member to its own customer; tenant-wide automations are hidden from it', async () => {
  const tenantWide = (await owner.post('/api/automations').send({ name: 'Tenant-wide', definition: tagging })).body.id;
  const other = (await owner.post('/api/automations').send({ name: 'Other customer', customerId: c(1), definition: tagging })).body.id;
  const own = await restricted.post('/api/automations').send({ name: 'Mine', definition: tagging });
  expect(own.status).toBe(201);
  expect(own.body.customerId).toBe(c(0));
  const elsewhere = await restricted.post('/api/automations').send({ name: 'Not mine', customerId: c(1), definition: tagging });
  expect(elsewhere.status).toBe(400);
  expect(elsewhere.body.error.details[0].path).toBe('customerId');
  for (const id of [tenantWide, other]) {
    expect((await restricted.get(`/api/automations/${id}`)).status).toBe(404);
    expect((await restricted.post(`/api/automations/${id}/publish`).send({ version: 1 })).status).toBe(404);
  }
  const listed = (await restricted.get('/api/automations?limit=200')).body.data.map((x: { customerId: string | null }) => x.customerId);
  expect(new Set(listed)).toEqual(new Set([c(0)]));
  expect((await restricted.post(`/api/automations/${own.body.id}/publish`).send({ version: 1 })).status).toBe(200);
});

it('refuses references the automation cannot use, with the field path, and writes nothing', async () => {
  const before = await counts(a);
  const bad = {
    trigger: { type: 'lead.created' },
    steps: [
      { type: 'send_message', inboxId: inbox1, subject: 'Hi', text: 'Hello' },
      { type: 'set_stage', stage: 'nowhere' },
      { type: 'wait_for', event: 'message.replied', timeout: '1d', onEvent: [{ type: 'notify', title: 'T', to: [newId('usr')] }], onTimeout: [] },
      { type: 'enroll_in_campaign', campaignId: newId('cmp') },
    ],
  };
  const res = await owner.post('/api/automations').send({ name: 'Bad', customerId: c(0), definition: bad });
  expect(res.status).toBe(400);
  expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual([
    'definition.steps.0.inboxId',
    'definition.steps.1.stage',
    'definition.steps.2.onEvent.0.to.0',
    'definition.steps.3.campaignId',
  ]);
  // The schema's own errors carry paths too.
  const invalid = await owner
    .post('/api/automations')
    .send({ name: 'Bad', definition: { trigger: { type: 'lead.created' }, steps: [{ type: 'wait', duration: '2 days' }] } });
  expect(invalid.status).toBe(400);
  expect(invalid.body.error.details[0].path).toBe('definition.steps.0.duration');
  expect(await counts(a)).toEqual(before);
  // Another tenant's inbox is not the tenant's either.
  const cross = await ownerB.post('/api/automations').send({ name: 'Cross', definition: sending(inbox0) });
  expect(cross.status).toBe(400);
  expect(cross.body.error.details[0].path).toBe('definition.steps.1.inboxId');
});

it('publishes the definition schema in the OpenAPI document', () => {
  const doc = buildOpenApi(routeSpecsOf(testApp(ds))) as {
    paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    components: { schemas: Record<string, unknown> };
  };
  const body = JSON.stringify(doc.paths['/api/automations']!.post!.requestBody!.content['application/json']);
  // The steps nest, so their schema is a component the body refers to (and that refers to itself).
  const ref = /"#\/components\/schemas\/([^"]+)"/.exec(body)?.[1];
  expect(ref).toBeDefined();
  const step = JSON.stringify(doc.components.schemas[ref!]);
  expect(step).toContain(`#/components/schemas/${ref}`);
  for (const word of ['schedule', 'cron']) expect(body).toContain(word);
  for (const word of ['send_message', 'wait_for', 'onTimeout']) expect(step).toContain(word);
});
