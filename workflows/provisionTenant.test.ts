// Tenant provisioning through the API and the project's worker on the real
// Temporal dev server: end to end, with Stripe (stripe-mock), a step that
// fails for good (saga compensation, then a retry that succeeds), concurrent
// duplicate registrations, and isolation between tenants.
import { Connection, Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { provisionTenantWorkflowId } from './ids';
import { tenantVisibilityQuery } from '../services/tenantWorkflows';
import { createStripe } from '../lib/stripe';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createUser } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startStripeMock } from '../test/helpers/stripeMock';
import { startSmtpServer } from '../test/helpers/smtp';
import { smtpPlatformMailer } from '../lib/platformMail';
import { connectClient, temporalAddress, uniqueTaskQueue, withProjectWorker, workflowIdsMatching } from '../test/helpers/temporal';
import { withTenant } from '../db/tenantContext';
import { PROVISIONING_REJECTED } from './provisionTenant.contract';

let db: TestDatabase;
let ds: DataSource;
let client: Client;
let clientConnection: Connection;
let apiTemporal: Connection;
let admin: Agent;
let taskQueue: string;
let api: ReturnType<typeof testApp>;

beforeAll(async () => {
  db = await createTestDatabase('provision');
  ds = await openDataSource(db.appUrl, 'tenantflow-provision-test');
  ({ client, connection: clientConnection } = await connectClient());
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  taskQueue = uniqueTaskQueue('provision');
  api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue, limits: { registrationsPerIp: 100 } });
  const platformAdmin = await createUser(ds, { platformAdmin: true });
  admin = await signIn(api, platformAdmin.email);
});

afterAll(async () => {
  await apiTemporal?.close();
  await clientConnection?.close();
  await ds?.destroy();
  await db?.drop();
});

let counter = 0;
function registration(overrides: { password?: string | null; industry?: string } = {}) {
  counter += 1;
  const n = `${Date.now().toString(36)}${counter}`;
  return {
    name: `Agency ${n}`,
    slug: `agency-${n}`,
    externalCustomerId: `crm-${n}`,
    industry: overrides.industry ?? 'agency',
    owner: {
      email: `owner-${n}@example.test`,
      name: `Owner ${n}`,
      ...(overrides.password === null ? {} : { password: overrides.password ?? 'owner password 123' }),
    },
  };
}

async function waitForTenant(tenantId: string, statuses: string[], timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await admin.get(`/api/tenants/${tenantId}/provisioning`);
    last = res.body as Record<string, unknown>;
    if (res.status === 200 && statuses.includes(String(last.tenantStatus)) && last.source === 'database') return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tenant ${tenantId} did not reach ${statuses.join('/')}: ${JSON.stringify(last)}`);
}

const count = async (tenantId: string, table: string) =>
  Number(((await withTenant(ds, tenantId, (m) => m.query(`SELECT count(*)::int AS n FROM ${table}`))) as { n: number }[])[0]!.n);

let provisioned: { tenantId: string; ownerEmail: string; workflowId: string };

it('provisions a tenant end to end: template roles, owner, checklist, entitlements; Stripe skipped with a reason', async () => {
  const body = registration();
  await withProjectWorker({ dataSource: ds, taskQueue }, async () => {
    const res = await admin.post('/api/tenants').send(body);
    expect(res.status).toBe(202);
    expect(res.body.tenant.status).toBe('provisioning');
    const tenantId = res.body.tenant.id as string;
    expect(res.body.workflowId).toBe(provisionTenantWorkflowId({ tenantId }));
    const done = await waitForTenant(tenantId, ['active']);
    expect(done).toMatchObject({
      status: 'completed',
      stepsDone: 6,
      stepsTotal: 6,
      skipped: { create_stripe_customer: expect.stringContaining('not configured') },
    });
    provisioned = { tenantId, ownerEmail: body.owner.email, workflowId: res.body.workflowId };
  });

  // The operator's view: a TenantId visibility query finds the workflow.
  // Provisioning started the tenant's billing lifecycle beside it.
  expect((await workflowIdsMatching(client, tenantVisibilityQuery(provisioned.tenantId), 2)).sort()).toEqual([
    `tenant/${provisioned.tenantId}/billing`,
    provisioned.workflowId,
  ]);

  // The owner signs in and has the template's roles.
  const owner = await signIn(api, provisioned.ownerEmail, 'owner password 123');
  const roles = await owner.get('/api/roles');
  expect(roles.body.data.map((r: { name: string }) => r.name).sort()).toEqual(['Account manager', 'Accountant', 'Admin', 'Owner', 'Viewer']);
  const me = await owner.get('/api/auth/me');
  expect(me.body.role.key).toBe('owner');
  const onboarding = await owner.get('/api/onboarding');
  expect(onboarding.body.checklist.map((i: { key: string }) => i.key)).toEqual([
    'add_customer',
    'connect_inbox',
    'write_sequence',
    'invite_team',
    'connect_stripe',
  ]);
  expect(onboarding.body.entitlements).toContainEqual({ key: 'inboxes', enabled: true, limit: 5 });
  const wf = await owner.get(`/api/workflows/${encodeURIComponent(provisioned.workflowId)}`);
  expect(wf.status).toBe(200);
  expect(wf.body).toMatchObject({ type: 'provisionTenant', status: 'COMPLETED', tenantId: provisioned.tenantId });
  // No personal data in the workflow's history: the input is the tenant id only.
  const history = JSON.stringify(await client.workflow.getHandle(provisioned.workflowId).fetchHistory());
  expect(history).not.toContain(Buffer.from(provisioned.ownerEmail).toString('base64'));
  expect(history).not.toContain(provisioned.ownerEmail);
});

it('creates the platform Stripe customer when Stripe is configured (stripe-mock)', async () => {
  const mock = await startStripeMock();
  try {
    const stripe = createStripe({ secretKey: 'sk_test_tenantflow', apiBase: mock.apiBase });
    const body = registration();
    await withProjectWorker({ dataSource: ds, taskQueue, stripe }, async () => {
      const res = await admin.post('/api/tenants').send(body);
      const done = await waitForTenant(res.body.tenant.id, ['active']);
      expect(done.skipped).toBeUndefined();
      const [row] = (await ds.query('SELECT stripe_customer_id FROM tenants WHERE id = $1', [res.body.tenant.id])) as { stripe_customer_id: string }[];
      expect(row!.stripe_customer_id).toMatch(/^cus_/);
    });
  } finally {
    await mock.stop();
  }
});

it('compensates completed steps when a step fails for good, leaves the tenant failed with the reason, and a retry succeeds', async () => {
  const body = registration({ password: null }); // owner gets an invite link
  let tenantId = '';
  await withProjectWorker(
    {
      dataSource: ds,
      taskQueue,
      activityOverrides: {
        enableDefaultEntitlements: async () => {
          throw ApplicationFailure.nonRetryable('the entitlement service refused the plan', PROVISIONING_REJECTED);
        },
      },
    },
    async () => {
      const res = await admin.post('/api/tenants').send(body);
      tenantId = res.body.tenant.id;
      const failed = await waitForTenant(tenantId, ['failed']);
      expect(failed).toMatchObject({
        status: 'failed',
        step: 'enable_entitlements',
        stepsDone: 4,
        error: expect.stringContaining('entitlement service refused'),
      });
    },
  );
  // Steps 2–3 were undone: no template roles, checklist, owner membership, invite or owner user.
  expect(await count(tenantId, 'roles')).toBe(0);
  expect(await count(tenantId, 'onboarding_items')).toBe(0);
  expect(await count(tenantId, 'memberships')).toBe(0);
  expect(await count(tenantId, 'invites')).toBe(0);
  expect(await ds.query('SELECT 1 FROM users WHERE email = $1', [body.owner.email])).toEqual([]);

  // Retry with the real activities.
  await withProjectWorker({ dataSource: ds, taskQueue, consoleUrl: 'http://console.test' }, async () => {
    const retry = await admin.post(`/api/tenants/${tenantId}/provisioning/retry`);
    expect(retry.status).toBe(202);
    const done = await waitForTenant(tenantId, ['active']);
    expect(done).toMatchObject({ status: 'completed', stepsDone: 6, ownerInviteUrl: expect.stringMatching(/^http:\/\/console\.test\/invite\/inv_/) });
    expect(done.error).toBeUndefined();
    // The invite sets the owner's password; then the owner signs in.
    const accept = await request(api.callback())
      .post('/api/auth/accept-invite')
      .send({ token: String(done.ownerInviteUrl).split('/invite/')[1], password: 'a brand new password' });
    expect(accept.status).toBe(204);
    await signIn(api, body.owner.email, 'a brand new password');
  });
  expect(await count(tenantId, 'roles')).toBe(5);
  expect(await count(tenantId, 'memberships')).toBe(1);
  expect((await admin.post(`/api/tenants/${tenantId}/provisioning/retry`)).status).toBe(409); // only failed ones
});

it('20 concurrent registrations with the same externalCustomerId make one tenant and one workflow', async () => {
  const body = registration();
  await withProjectWorker({ dataSource: ds, taskQueue }, async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => request(api.callback()).post('/api/tenants/register').send(body)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const tenantIds = new Set(results.map((r) => r.body.tenant.id));
    const workflowIds = new Set(results.map((r) => r.body.workflowId));
    expect(tenantIds.size).toBe(1);
    expect(workflowIds.size).toBe(1);
    const [tenantId] = [...tenantIds] as [string];
    await waitForTenant(tenantId, ['active']);
    expect(await ds.query('SELECT id FROM tenants WHERE external_customer_id = $1', [body.externalCustomerId])).toHaveLength(1);
    expect((await workflowIdsMatching(client, tenantVisibilityQuery(tenantId), 2)).filter((id) => id.endsWith('/provision'))).toHaveLength(1);
    expect(await count(tenantId, 'memberships')).toBe(1);
  });
  // Same id, different details: 409, and nothing new.
  const changed = await request(api.callback())
    .post('/api/tenants/register')
    .send({ ...body, name: 'Someone else' });
  expect(changed.status).toBe(409);
  expect(changed.body.error.code).toBe('registration_conflict');
  // A taken slug under a new externalCustomerId: 409 naming the field.
  const slugTaken = await request(api.callback())
    .post('/api/tenants/register')
    .send({ ...registration(), slug: body.slug });
  expect(slugTaken.status).toBe(409);
  expect(slugTaken.body.error.code).toBe('slug_taken');
});

it("answers 404 to an owner asking for another tenant's provisioning or workflow", async () => {
  const other = registration();
  let otherId = '';
  await withProjectWorker({ dataSource: ds, taskQueue }, async () => {
    otherId = (await admin.post('/api/tenants').send(other)).body.tenant.id;
    await waitForTenant(otherId, ['active']);
  });
  const owner = await signIn(api, provisioned.ownerEmail, 'owner password 123');
  expect((await owner.get(`/api/tenants/${provisioned.tenantId}/provisioning`)).status).toBe(200);
  const foreign = await owner.get(`/api/tenants/${otherId}/provisioning`);
  const missing = await owner.get('/api/tenants/00000000-0000-7000-8000-000000000000/provisioning');
  expect(foreign.status).toBe(404);
  expect(foreign.body).toEqual(missing.body);
  const otherWorkflow = await owner.get(`/api/workflows/${encodeURIComponent(provisionTenantWorkflowId({ tenantId: otherId }))}`);
  expect(otherWorkflow.status).toBe(404);
  expect((await owner.get(`/api/workflows/${encodeURIComponent('platform/backfill/anything')}`)).status).toBe(404);
  // Registering tenants and retrying are for platform admins only.
  expect((await owner.post('/api/tenants').send(registration())).status).toBe(403);
});

it('mails the owner their invitation when the platform admin registers a tenant without a password', async () => {
  const smtp = await startSmtpServer();
  try {
    const mailer = smtpPlatformMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Tenantflow <no-reply@tenantflow.test>' });
    const invited = registration({ password: null });
    const withPassword = registration();
    await withProjectWorker({ dataSource: ds, taskQueue, consoleUrl: 'http://console.test', mailer }, async () => {
      const ids: string[] = [];
      for (const body of [invited, withPassword]) {
        const res = await admin.post('/api/tenants').send(body);
        expect(res.status).toBe(202);
        ids.push(res.body.tenant.id);
      }
      const done = await waitForTenant(ids[0]!, ['active']);
      await waitForTenant(ids[1]!, ['active']);
      const [mail] = await smtp.waitFor(1);
      // Only the owner without a password is invited, at their own address, with the link the admin sees.
      await new Promise((r) => setTimeout(r, 500));
      expect(smtp.received).toHaveLength(1);
      expect(mail!.envelope.to).toEqual([invited.owner.email]);
      expect(mail!.parsed.subject).toBe('You are invited to a workspace on Tenantflow');
      const link = /http:\/\/console\.test\/invite\/(inv_\S+)/.exec(mail!.parsed.text ?? '');
      expect(link?.[0]).toBe(done.ownerInviteUrl);
      // The mailed link works: the owner chooses a password and signs in.
      const accept = await request(api.callback()).post('/api/auth/accept-invite').send({ token: link![1], password: 'the owner chose this' });
      expect(accept.status).toBe(204);
      await signIn(api, invited.owner.email, 'the owner chose this');
    });
  } finally {
    await smtp.stop();
  }
});
