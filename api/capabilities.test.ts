// E-mail outreach capability provisioning through the API and the project's
// worker: the provider account is created once (even when the provider fails
// after accepting), its API key is stored sealed, inboxes are synced; only
// platform admins and owners may do it, only explicitly.
import { Connection, Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { generateKey, open, parseKeyring } from '../lib/encryption';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startFakeSmartlead, type FakeSmartlead } from '../test/helpers/fakeSmartlead';
import { temporalAddress, uniqueTaskQueue, withProjectWorker } from '../test/helpers/temporal';
import { PLAN_FEATURE_REQUIRED } from '../workflows/provisionEmailOutreach.contract';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');

let db: TestDatabase;
let ds: DataSource;
let temporal: Connection;
let provider: FakeSmartlead;
let taskQueue: string;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let member: Agent;
let restricted: Agent;
let admin: Agent;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase('capabilities');
  ds = await openDataSource(db.appUrl, 'tenantflow-capabilities');
  temporal = await Connection.connect({ address: temporalAddress() });
  provider = await startFakeSmartlead();
  taskQueue = uniqueTaskQueue('capabilities');
  api = testApp(ds, { client: new Client({ connection: temporal }), taskQueue, providerConfigured: true });
  a = await createTenant(ds, { customers: 3 });
  b = await createTenant(ds, { customers: 1 });
  const [o, m, r, p] = [await createUser(ds), await createUser(ds), await createUser(ds), await createUser(ds, { platformAdmin: true })];
  await addMember(ds, a, o, 'owner');
  await addMember(ds, a, m, 'admin');
  await addMember(ds, a, r, 'member', a.customers[0]!.id);
  [owner, member, restricted, admin] = [await signIn(api, o.email), await signIn(api, m.email), await signIn(api, r.email), await signIn(api, p.email)];
});

afterAll(async () => {
  await provider?.stop();
  await temporal?.close();
  await ds?.destroy();
  await db?.drop();
});

const worker = <T>(fn: () => Promise<T>) =>
  withProjectWorker({ dataSource: ds, taskQueue, keyring, smartlead: { baseUrl: provider.baseUrl, apiKey: provider.adminKey } }, fn);

async function waitForStatus(agent: Agent, customerId: string, want: string, query = ''): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  let last: unknown;
  while (Date.now() < deadline) {
    const res = await agent.get(`/api/internal/provisioning/email-outreach/${customerId}/status${query}`);
    last = res.body;
    if (res.status === 200 && res.body.status === want) return res.body as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`status did not become ${want}: ${JSON.stringify(last)}`);
}

it('an owner turns on e-mail outreach: one provider account, a sealed API key, synced inboxes', async () => {
  const customerId = a.customers[0]!.id;
  const before = provider.calls['POST /client/save'] ?? 0;
  expect((await owner.get(`/api/internal/provisioning/email-outreach/${customerId}/status`)).body.error.code).toBe('not_provisioned');
  await worker(async () => {
    const res = await owner.post(`/api/internal/provisioning/email-outreach/${customerId}`).send({});
    expect(res.status).toBe(202);
    expect(res.body.workflowId).toBe(`tenant/${a.tenant.id}/customer/${customerId}/provision-email`);
    const status = await waitForStatus(owner, customerId, 'active');
    expect(status).toMatchObject({ provider: 'smartlead', apiKeyStored: true, encryptionKeyId: 'v1', inboxes: 2 });
  });
  expect((provider.calls['POST /client/save'] ?? 0) - before).toBe(1);
  const [row] = await withTenant(ds, a.tenant.id, (m) =>
    m.query('SELECT api_key_ciphertext, api_key_key_id FROM provider_accounts WHERE customer_id = $1', [customerId]),
  );
  expect(row.api_key_ciphertext).not.toMatch(/sl_client_/);
  const apiKey = open(keyring, { keyId: row.api_key_key_id, ciphertext: row.api_key_ciphertext }, `tenant/${a.tenant.id}/customer/${customerId}/smartlead`);
  expect(apiKey).toMatch(/^sl_client_/);
});

it('never creates a second provider account when the provider fails after accepting', async () => {
  const customerId = a.customers[1]!.id;
  provider.failAfterNextCreate = true;
  const before = provider.clients.length;
  await worker(async () => {
    expect((await owner.post(`/api/internal/provisioning/email-outreach/${customerId}`).send({})).status).toBe(202);
    await waitForStatus(owner, customerId, 'active');
  });
  expect(provider.clients.length - before).toBe(1);
  expect(provider.clients.filter((c) => c.name.endsWith(customerId))).toHaveLength(1);
});

it('syncs inboxes again on request', async () => {
  const customerId = a.customers[0]!.id;
  const clientId = provider.clients.find((c) => c.name.endsWith(customerId))!.id;
  provider.accounts
    .get(clientId)!
    .push({ id: 9999, from_email: 'New.Sender@Client.example', from_name: 'New', message_per_day: 10, warmup_details: { status: 'ACTIVE' } });
  await worker(async () => {
    expect((await owner.post(`/api/internal/provisioning/email-outreach/${customerId}/sync-inboxes`).send({})).status).toBe(202);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const s = await owner.get(`/api/internal/provisioning/email-outreach/${customerId}/status`);
      if (s.body.inboxes === 3) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('inboxes were not synced');
  });
});

it('lets platform admins (naming the tenant) and owners only; another tenant’s customer is 404', async () => {
  const own = a.customers[2]!.id;
  expect((await member.post(`/api/internal/provisioning/email-outreach/${own}`).send({})).status).toBe(403);
  expect((await restricted.post(`/api/internal/provisioning/email-outreach/${own}`).send({})).status).toBe(404);
  expect((await owner.post(`/api/internal/provisioning/email-outreach/${b.customers[0]!.id}`).send({})).status).toBe(404);
  expect((await owner.post(`/api/internal/provisioning/email-outreach/${own}`).send({ tenantId: b.tenant.id })).status).toBe(400);
  expect((await admin.post(`/api/internal/provisioning/email-outreach/${own}`).send({})).status).toBe(400);
  expect((await admin.post(`/api/internal/provisioning/email-outreach/${own}`).send({ tenantId: b.tenant.id })).status).toBe(404);
  await worker(async () => {
    expect((await admin.post(`/api/internal/provisioning/email-outreach/${own}`).send({ tenantId: a.tenant.id })).status).toBe(202);
    await waitForStatus(admin, own, 'active', `?tenantId=${a.tenant.id}`);
  });
});

it('is never triggered by a login, and answers 503 when the provider is not configured', async () => {
  const before = JSON.stringify(provider.calls);
  const fresh = await createTenant(ds, { customers: 1 });
  const u = await createUser(ds);
  await addMember(ds, fresh, u, 'owner');
  const agent = await signIn(api, u.email);
  await agent.get('/api/auth/me');
  expect(JSON.stringify(provider.calls)).toBe(before);
  expect((await agent.get(`/api/internal/provisioning/email-outreach/${fresh.customers[0]!.id}/status`)).status).toBe(404);
  const unconfigured = await signIn(testApp(ds, { client: new Client({ connection: temporal }), taskQueue, providerConfigured: false }), u.email);
  const res = await unconfigured.post(`/api/internal/provisioning/email-outreach/${fresh.customers[0]!.id}`).send({});
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('provider_not_configured');
});

it('adds the provider’s inboxes only up to the plan’s inbox limit, and not at all without e-mail outreach in the plan', async () => {
  const c = await createTenant(ds, { customers: 1 });
  const o = await createUser(ds);
  await addMember(ds, c, o, 'owner');
  const cOwner = await signIn(api, o.email);
  const customerId = c.customers[0]!.id;
  const inboxes = async () => Number((await withTenant(ds, c.tenant.id, (m) => m.query('SELECT count(*)::int AS n FROM inboxes')))[0].n);
  // The plan allows one inbox (as the billing workflow writes it); the provider account has two.
  await withTenant(ds, c.tenant.id, (m) =>
    m.query("INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES ($1, 'inboxes', true, 1, 'plan:free')", [c.tenant.id]),
  );
  await worker(async () => {
    const res = await cOwner.post(`/api/internal/provisioning/email-outreach/${customerId}`).send({});
    expect(res.status).toBe(202);
    expect(await new Client({ connection: temporal }).workflow.getHandle(res.body.workflowId).result()).toMatchObject({ inboxes: 2 });
  });
  expect(await inboxes()).toBe(1);

  // Without e-mail outreach in the plan: the route answers 402, and the workflow (a platform admin may start it) refuses too.
  await withTenant(ds, c.tenant.id, (m) => m.query("UPDATE entitlements SET enabled = false WHERE key = 'email_outreach'"));
  const refused = await cOwner.post(`/api/internal/provisioning/email-outreach/${customerId}/sync-inboxes`).send({});
  expect(refused.status).toBe(402);
  expect(refused.body.error).toMatchObject({ code: 'plan_feature_required', details: { feature: 'email_outreach' } });
  await withTenant(ds, c.tenant.id, (m) => m.query("UPDATE entitlements SET limit_value = 10 WHERE key = 'inboxes'"));
  await worker(async () => {
    const res = await admin.post(`/api/internal/provisioning/email-outreach/${customerId}/sync-inboxes`).send({ tenantId: c.tenant.id });
    expect(res.status).toBe(202);
    const failed = (await new Client({ connection: temporal }).workflow
      .getHandle(res.body.workflowId)
      .result()
      .catch((e: unknown) => e)) as { cause?: { cause?: { type?: string } } };
    expect(failed.cause?.cause?.type).toBe(PLAN_FEATURE_REQUIRED);
  });
  expect(await inboxes()).toBe(1);
});
