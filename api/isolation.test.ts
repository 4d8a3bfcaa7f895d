// The isolation matrix (docs/security.md, "What isolates what"): every route
// that addresses one resource × {own, another tenant's, another customer's,
// nonexistent} × {read, update, delete} answers 200 (or 201/204) for the
// caller's own resource and 404 — the same 404 as "does not exist" — for
// everything else. Table-driven: a new route joins by adding a row, and the
// completeness check at the bottom fails until it does. All database access
// here, fixtures included, runs as the application role.
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sinkFileBase } from '../lib/mailSinkFiles';
import { Connection, Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { newId, uuidv7 } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { diagnoseTenant } from '../workflows/diagnoseTenant';
import { diagnoseTenantWorkflowId } from '../workflows/ids';
import { tenantSearchAttributes } from '../services/tenantWorkflows';
import { connectClient, temporalAddress } from '../test/helpers/temporal';
import { routeSpecsOf } from './app';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startStripeMock } from '../test/helpers/stripeMock';
import { generateKey, parseKeyring } from '../lib/encryption';
import { LOCAL_PRICE_IDS } from '../lib/plans';
import { createStripe } from '../lib/stripe';
import { exportLinkSignature } from '../lib/analyticsExport';
import { defaultExportDir, exportFilePath } from '../lib/exportFiles';
import { signTrackingToken } from '../lib/tracking';
import { insertAutomation as insertRunAutomation, insertFailedRun, insertRunRow } from '../test/helpers/automationRows';
import { insertAutomation } from '../test/helpers/automationTriggers';

type Caller = 'owner' | 'restricted';
type Case = 'own' | 'otherTenant' | 'otherCustomer' | 'nonexistent';

interface Row {
  route: string; // "METHOD /path/:param…", as registered
  action: 'read' | 'update' | 'delete' | 'create-from';
  caller: Caller;
  ok: number;
  body?: unknown;
  /** Routes that address their resource in the body: the body for an id. */
  bodyOf?: (id: string) => unknown;
  /** Makes a fresh resource for each case; `otherCustomer` only where a restricted caller has the permission. */
  make: { own: () => Promise<string>; otherTenant: () => Promise<string>; otherCustomer?: () => Promise<string>; nonexistent?: () => string };
  idPrefix?: 'cust' | 'role' | 'mem' | 'inv' | 'tok' | 'seq' | 'inb' | 'cmp' | 'lead' | 'msg' | 'cinv' | 'conv' | 'pkey' | 'auto';
  /** Customer-scoped routes: the caller's X-Customer-Id. */
  customerId?: () => string;
}

let db: TestDatabase;
let stripeMock: Awaited<ReturnType<typeof startStripeMock>>;
let app: DataSource;
let temporal: Connection;
let client: Client;
let clientConnection: Connection;
const startedWorkflows: string[] = [];
let a: TenantFixture;
let b: TenantFixture;
const sinkDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-isolation-sink-'));
const agents = {} as Record<'ownerA' | 'restrictedA' | 'ownerB', Agent>;

beforeAll(async () => {
  db = await createTestDatabase('isolation');
  app = await openDataSource(db.appUrl, 'tenantflow-isolation');
  a = await createTenant(app, { name: 'Tenant A', customers: 2 });
  b = await createTenant(app, { name: 'Tenant B', customers: 1 });
  const ownerA = await createUser(app);
  const restrictedA = await createUser(app);
  const ownerB = await createUser(app);
  await addMember(app, a, ownerA, 'owner');
  await addMember(app, a, restrictedA, 'member', a.customers[0]!.id);
  await addMember(app, b, ownerB, 'owner');
  temporal = Connection.lazy({ address: temporalAddress() });
  ({ client, connection: clientConnection } = await connectClient());
  stripeMock = await startStripeMock();
  const api = testApp(app, {
    client: new Client({ connection: temporal }),
    providerConfigured: true,
    taskQueue: `idle-${randomUUID()}`,
    mailSinkDir: sinkDir,
    keyring: isolationKeyring,
    // Local test mode, so its stand-ins for Stripe's hosted pages are in the matrix too.
    billing: {
      stripe: createStripe({ secretKey: 'sk_test_isolation', apiBase: stripeMock.apiBase }),
      prices: LOCAL_PRICE_IDS,
      localMode: true,
      webhookSecret: 'whsec_isolation_platform_0123456789',
      connectWebhookSecret: 'whsec_isolation_connect_0123456789',
      feeBps: 200,
      consoleUrl: 'http://127.0.0.1:3000',
    },
  });
  agents.ownerA = await signIn(api, ownerA.email);
  agents.restrictedA = await signIn(api, restrictedA.email);
  agents.ownerB = await signIn(api, ownerB.email);
  // Both tenants bill their clients through a connected account of their own.
  for (const owner of [agents.ownerA, agents.ownerB]) expect((await owner.post('/api/client-billing/connect/start')).status).toBe(200);
});

afterAll(async () => {
  for (const id of startedWorkflows)
    await client.workflow
      .getHandle(id)
      .terminate('isolation test done')
      .catch(() => undefined);
  // Capability workflows the matrix started (on a queue no worker polls).
  for (const t of [a, b]) {
    for await (const wf of client.workflow.list({ query: `TenantId = '${t.tenant.id}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(wf.workflowId)
        .terminate('isolation test done')
        .catch(() => undefined);
    }
  }
  await stripeMock?.stop();
  await clientConnection?.close();
  await temporal?.close();
  await app?.destroy();
  await db?.drop();
  fs.rmSync(sinkDir, { recursive: true, force: true });
});

async function created(agent: Agent, path: string, body: object, customerId?: string): Promise<string> {
  const req = agent.post(path);
  const res = await (customerId ? req.set('X-Customer-Id', customerId) : req).send(body);
  if (res.status !== 201) throw new Error(`fixture ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

const customer = (agent: Agent) => () => created(agent, '/api/customers', { name: 'Fixture customer' });
const role = (agent: Agent, t: () => TenantFixture) => () => created(agent, `/api/roles/${t().roles.viewer}/clone`, {});
/** A member of the tenant (written directly: joining through the API is an invitation the invitee accepts). */
const member = (t: () => TenantFixture, customerOf?: () => string) => async () =>
  (await addMember(app, t(), await createUser(app), 'viewer', customerOf?.())).id;
/** A pending invitation, made through the API. */
const invite = (agent: () => Agent, t: () => TenantFixture) => async () => {
  const res = await agent()
    .post('/api/members')
    .send({ email: `${newId('usr')}@example.test`, name: 'Invitee', roleId: t().roles.viewer });
  if (res.status !== 202) throw new Error(`fixture invite: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { invite: { id: string } }).invite.id;
};
const token = (agent: Agent) => () => created(agent, '/api/tokens', { name: 'Fixture token' });
/** A customer with e-mail outreach turned on (a provider account row), written in its tenant's context. */
const provisionedCustomer = (agent: () => Agent, t: () => TenantFixture, existing?: () => string) => async () => {
  const customerId = existing ? existing() : await customer(agent())();
  await withTenant(app, t().tenant.id, (m) =>
    m.query(
      "INSERT INTO provider_accounts (tenant_id, customer_id, provider, status, external_name) VALUES (current_setting('app.tenant_id')::uuid, $1, 'smartlead', 'active', $1) ON CONFLICT DO NOTHING",
      [customerId],
    ),
  );
  return customerId;
};

/** A sequence (and optionally one step, as "seq|stp") of a customer. */
const sequenceOf =
  (agent: () => Agent, customerId: () => string, withStep = false) =>
  async () => {
    const seq = await created(agent(), '/api/sequences', { name: 'Fixture sequence' }, customerId());
    if (!withStep) return seq;
    const stepId = await created(agent(), `/api/sequences/${seq}/steps`, { subject: 'Hi', body: 'Hello', delayHours: 0 }, customerId());
    return `${seq}|${stepId}`;
  };

/** A workflow of the tenant, on a queue no worker polls: it stays RUNNING to be described. */
const workflow = (t: () => TenantFixture) => async () => {
  const tenantId = t().tenant.id;
  const workflowId = diagnoseTenantWorkflowId({ tenantId, requestId: randomUUID() });
  await client.workflow.start(diagnoseTenant, {
    workflowId,
    taskQueue: `idle-${randomUUID()}`,
    args: [{ tenantId }],
    typedSearchAttributes: tenantSearchAttributes(tenantId),
  });
  startedWorkflows.push(workflowId);
  return encodeURIComponent(workflowId);
};

// Built lazily: agents exist only after beforeAll.
function rows(): Row[] {
  const A = () => a;
  const B = () => b;
  const cust = { own: customer(agents.ownerA), otherTenant: customer(agents.ownerB) };
  const restrictedCust = {
    own: async () => a.customers[0]!.id,
    otherTenant: customer(agents.ownerB),
    otherCustomer: async () => a.customers[1]!.id,
  };
  const roles = { own: role(agents.ownerA, A), otherTenant: role(agents.ownerB, B) };
  const members = {
    own: member(A),
    otherTenant: member(B),
  };
  const restrictedMembers = {
    own: member(A, () => a.customers[0]!.id),
    otherTenant: member(B),
    otherCustomer: member(A, () => a.customers[1]!.id),
  };
  const invites = { own: invite(() => agents.ownerA, A), otherTenant: invite(() => agents.ownerB, B) };
  const tokens = { own: token(agents.ownerA), otherTenant: token(agents.ownerB) };
  return [
    { route: 'GET /api/customers/:id', action: 'read', caller: 'owner', ok: 200, make: cust, idPrefix: 'cust' },
    { route: 'PATCH /api/customers/:id', action: 'update', caller: 'owner', ok: 200, body: { name: 'Renamed' }, make: cust, idPrefix: 'cust' },
    { route: 'DELETE /api/customers/:id', action: 'delete', caller: 'owner', ok: 204, make: cust, idPrefix: 'cust' },
    { route: 'GET /api/customers/:id', action: 'read', caller: 'restricted', ok: 200, make: restrictedCust, idPrefix: 'cust' },
    { route: 'PATCH /api/customers/:id', action: 'update', caller: 'restricted', ok: 200, body: { name: 'Renamed' }, make: restrictedCust, idPrefix: 'cust' },
    { route: 'GET /api/roles/:id', action: 'read', caller: 'owner', ok: 200, make: roles, idPrefix: 'role' },
    {
      route: 'PUT /api/roles/:id/permissions',
      action: 'update',
      caller: 'owner',
      ok: 200,
      body: { permissions: ['customers.read'] },
      make: roles,
      idPrefix: 'role',
    },
    { route: 'POST /api/roles/:id/clone', action: 'create-from', caller: 'owner', ok: 201, body: {}, make: roles, idPrefix: 'role' },
    { route: 'DELETE /api/roles/:id', action: 'delete', caller: 'owner', ok: 204, make: roles, idPrefix: 'role' },
    { route: 'GET /api/members/:id', action: 'read', caller: 'owner', ok: 200, make: members, idPrefix: 'mem' },
    { route: 'PATCH /api/members/:id', action: 'update', caller: 'owner', ok: 200, body: { customerId: null }, make: members, idPrefix: 'mem' },
    { route: 'DELETE /api/members/:id', action: 'delete', caller: 'owner', ok: 204, make: members, idPrefix: 'mem' },
    { route: 'GET /api/members/:id', action: 'read', caller: 'restricted', ok: 200, make: restrictedMembers, idPrefix: 'mem' },
    { route: 'DELETE /api/members/invites/:id', action: 'delete', caller: 'owner', ok: 204, make: invites, idPrefix: 'inv' },
    { route: 'DELETE /api/tokens/:id', action: 'delete', caller: 'owner', ok: 204, make: tokens, idPrefix: 'tok' },
    {
      route: 'POST /api/internal/provisioning/email-outreach/:customerId',
      action: 'create-from',
      caller: 'owner',
      ok: 202,
      body: {},
      make: cust,
      idPrefix: 'cust',
    },
    {
      route: 'POST /api/internal/provisioning/email-outreach/:customerId/sync-inboxes',
      action: 'update',
      caller: 'owner',
      ok: 202,
      body: {},
      make: cust,
      idPrefix: 'cust',
    },
    {
      route: 'GET /api/internal/provisioning/email-outreach/:customerId/status',
      action: 'read',
      caller: 'owner',
      ok: 200,
      make: { own: provisionedCustomer(() => agents.ownerA, A), otherTenant: provisionedCustomer(() => agents.ownerB, B) },
      idPrefix: 'cust',
    },
    {
      route: 'GET /api/internal/provisioning/email-outreach/:customerId/status',
      action: 'read',
      caller: 'restricted',
      ok: 200,
      make: {
        own: provisionedCustomer(
          () => agents.ownerA,
          A,
          () => a.customers[0]!.id,
        ),
        otherTenant: provisionedCustomer(() => agents.ownerB, B),
        otherCustomer: provisionedCustomer(
          () => agents.ownerA,
          A,
          () => a.customers[1]!.id,
        ),
      },
      idPrefix: 'cust',
    },
    ...sequenceRows(),
    ...inboxRows(),
    ...clientInvoiceRows(),
    ...campaignRows(),
    ...sequenceUpgradeRows(),
    {
      route: 'GET /api/tenants/:id/provisioning',
      action: 'read',
      caller: 'owner',
      ok: 200,
      make: { own: async () => a.tenant.id, otherTenant: async () => b.tenant.id, nonexistent: () => uuidv7() },
    },
    {
      route: 'GET /api/workflows/:workflowId',
      action: 'read',
      caller: 'owner',
      ok: 200,
      make: {
        own: workflow(A),
        otherTenant: workflow(B),
        nonexistent: () => encodeURIComponent(diagnoseTenantWorkflowId({ tenantId: a.tenant.id, requestId: randomUUID() })),
      },
    },
    ...leadFixRows(),
    ...conversationRows(),
    ...messageRows(),
    ...attachmentRows(),
    ...leadExpansionRows(),
    ...publishableKeyRows(),
    ...trackingRows(),
    ...chartRows(),
    ...analyticsExportRows(),
    ...automationTriggerRows(),
    ...notificationRows(),
    ...leadStageRows(),
    ...automationRunRows(),
    ...automationRows(),
  ];
}

function sequenceRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const c1 = () => a.customers[1]!.id;
  const cb = () => b.customers[0]!.id;
  const owner = () => agents.ownerA;
  const seq = { own: sequenceOf(owner, c0), otherTenant: sequenceOf(() => agents.ownerB, cb), otherCustomer: sequenceOf(owner, c1) };
  const stp = {
    own: sequenceOf(owner, c0, true),
    otherTenant: sequenceOf(() => agents.ownerB, cb, true),
    otherCustomer: sequenceOf(owner, c1, true),
    nonexistent: () => `${newId('seq')}|${newId('stp')}`,
  };
  const base = { caller: 'owner' as const, customerId: c0, idPrefix: 'seq' as const };
  return [
    { ...base, route: 'GET /api/sequences/:id', action: 'read', ok: 200, make: seq },
    { ...base, route: 'PUT /api/sequences/:id', action: 'update', ok: 200, body: { name: 'Renamed' }, make: seq },
    { ...base, route: 'DELETE /api/sequences/:id', action: 'delete', ok: 204, make: seq },
    { ...base, route: 'POST /api/sequences/:id/steps', action: 'create-from', ok: 201, body: { subject: 'S', body: 'B', delayHours: 1 }, make: seq },
    { ...base, route: 'PUT /api/sequences/:id/steps/:stepId', action: 'update', ok: 200, body: { subject: 'Changed' }, make: stp },
    { ...base, route: 'DELETE /api/sequences/:id/steps/:stepId', action: 'delete', ok: 204, make: stp },
  ];
}

/** Client invoices (billing through each tenant's own Connect account, on stripe-mock). */
function clientInvoiceRows(): Row[] {
  const invoiceOf = (agent: () => Agent, customerId: () => string) => async () =>
    created(agent(), '/api/client-billing/invoices', { currency: 'eur', lines: [{ description: 'Matrix work', amountCents: 1000 }] }, customerId());
  const c0 = () => a.customers[0]!.id;
  const make = {
    own: invoiceOf(() => agents.ownerA, c0),
    otherTenant: invoiceOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: invoiceOf(
      () => agents.ownerA,
      () => a.customers[1]!.id,
    ),
  };
  // The local checkout pays an invoice whose checkout is open.
  const opened = (agent: () => Agent, customerId: () => string) => async () => {
    const id = await invoiceOf(agent, customerId)();
    const res = await agent().post(`/api/client-billing/invoices/${id}/checkout`).set('X-Customer-Id', customerId());
    if (res.status !== 200) throw new Error(`fixture checkout: ${res.status} ${JSON.stringify(res.body)}`);
    return id;
  };
  const open = {
    own: opened(() => agents.ownerA, c0),
    otherTenant: opened(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: opened(
      () => agents.ownerA,
      () => a.customers[1]!.id,
    ),
  };
  return [
    { caller: 'owner', customerId: c0, idPrefix: 'cinv', make, route: 'POST /api/client-billing/invoices/:id/checkout', action: 'update', ok: 200 },
    { caller: 'owner', customerId: c0, idPrefix: 'cinv', make: open, route: 'POST /api/client-billing/invoices/:id/local-checkout', action: 'update', ok: 200 },
  ];
}

function inboxRows(): Row[] {
  const inboxOf = (agent: () => Agent, customerId: () => string) => async () =>
    created(agent(), '/api/inboxes', { provider: 'smartlead', fromEmail: `${newId('usr')}@sender.example`, dailyCap: 20 }, customerId());
  const c0 = () => a.customers[0]!.id;
  const make = {
    own: inboxOf(() => agents.ownerA, c0),
    otherTenant: inboxOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: inboxOf(
      () => agents.ownerA,
      () => a.customers[1]!.id,
    ),
  };
  const base = { caller: 'owner' as const, customerId: c0, idPrefix: 'inb' as const, make };
  return [
    { ...base, route: 'GET /api/inboxes/:id', action: 'read', ok: 200 },
    { ...base, route: 'PATCH /api/inboxes/:id', action: 'update', ok: 200, body: { dailyCap: 15 } },
    { ...base, route: 'DELETE /api/inboxes/:id', action: 'delete', ok: 204 },
  ];
}

/** A campaign with a sequence snapshot (and optionally a lead whose enrollment is in `state`, as "cmp|lead"). */
const campaignOf = (agent: () => Agent, customerId: () => string, lead?: 'active' | 'paused' | 'pending') => async () => {
  const inbox = await created(agent(), '/api/inboxes', { provider: 'smartlead', fromEmail: `${newId('usr')}@sender.example`, dailyCap: 20 }, customerId());
  const schedule = { timezone: 'UTC', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
  const cmp = await created(agent(), '/api/campaigns', { name: 'Fixture campaign', inboxIds: [inbox], schedule }, customerId());
  await created(agent(), `/api/campaigns/${cmp}/sequence`, { steps: [{ subject: 'Hi', body: 'Hello', delayHours: 0 }] }, customerId());
  if (!lead) return cmp;
  const res = await agent()
    .post(`/api/campaigns/${cmp}/leads`)
    .set('X-Customer-Id', customerId())
    .send({ leads: [{ email: `${newId('usr')}@lead.example` }] });
  if (res.status !== 200) throw new Error(`fixture leads: ${res.status}`);
  const tenantId = [a, b].find((t) => t.customers.some((c) => c.id === customerId()))!.tenant.id;
  const [row] = (await withTenant(app, tenantId, (m) =>
    m.query("UPDATE enrollments SET status = $2, sequence_version = CASE WHEN $2 = 'pending' THEN NULL ELSE 1 END WHERE campaign_id = $1 RETURNING lead_id", [
      cmp,
      lead,
    ]),
  )) as [{ lead_id: string }[], number];
  return `${cmp}|${row[0]!.lead_id}`;
};

/** A sent message of a lead (written as the send activity writes it) and its copy in the local sink. */
const sentMessage = (agent: () => Agent, customerId: () => string) => async () => {
  const [cmp, leadId] = (await campaignOf(agent, customerId, 'active')()).split('|') as [string, string];
  const tenantId = [a, b].find((t) => t.customers.some((c) => c.id === customerId()))!.tenant.id;
  const id = newId('msg');
  const messageId = `<${newId('enr')}.1.${tenantId}@sender.example>`;
  await withTenant(app, tenantId, async (m) => {
    const [e] = (await m.query('SELECT id FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [cmp, leadId])) as { id: string }[];
    await m.query(
      `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, direction, step, status, message_id, subject, body)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, 'outbound', 1, 'accepted', $6, 'Hi', 'Hello')`,
      [id, customerId(), cmp, e!.id, leadId, messageId],
    );
  });
  fs.writeFileSync(path.join(sinkDir, `${sinkFileBase(messageId)}.eml`), `Message-ID: ${messageId}\r\nSubject: Hi\r\n\r\nHello`);
  return id;
};

function campaignRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const c1 = () => a.customers[1]!.id;
  const cb = () => b.customers[0]!.id;
  const owner = () => agents.ownerA;
  const ownerB = () => agents.ownerB;
  const cmp = { own: campaignOf(owner, c0), otherTenant: campaignOf(ownerB, cb), otherCustomer: campaignOf(owner, c1) };
  const withLead = (state: 'active' | 'paused' | 'pending') => ({
    own: campaignOf(owner, c0, state),
    otherTenant: campaignOf(ownerB, cb, state),
    otherCustomer: campaignOf(owner, c1, state),
    nonexistent: () => `${newId('cmp')}|${newId('lead')}`,
  });
  const base = { caller: 'owner' as const, customerId: c0, idPrefix: 'cmp' as const };
  const lead = (agent: () => Agent, customerId: () => string) => async () => (await campaignOf(agent, customerId, 'pending')()).split('|')[1]!;
  const leads = { own: lead(owner, c0), otherTenant: lead(ownerB, cb), otherCustomer: lead(owner, c1), nonexistent: () => newId('lead') };
  return [
    { ...base, route: 'GET /api/campaigns/:id', action: 'read', ok: 200, make: cmp },
    { ...base, route: 'POST /api/campaigns/:id/status', action: 'update', ok: 200, body: { status: 'paused' }, make: cmp },
    { ...base, route: 'GET /api/campaigns/:id/sequence', action: 'read', ok: 200, make: cmp },
    {
      ...base,
      route: 'POST /api/campaigns/:id/sequence',
      action: 'create-from',
      ok: 201,
      body: { steps: [{ subject: 'S', body: 'B', delayHours: 0 }] },
      make: cmp,
    },
    { ...base, route: 'POST /api/campaigns/:id/leads', action: 'create-from', ok: 200, body: { leads: [{ email: 'matrix@lead.example' }] }, make: cmp },
    { ...base, route: 'GET /api/campaigns/:id/leads', action: 'read', ok: 200, make: cmp },
    { ...base, route: 'GET /api/campaigns/:id/replies', action: 'read', ok: 200, make: cmp },
    { ...base, route: 'GET /api/campaigns/:id/stats', action: 'read', ok: 200, make: cmp },
    { ...base, route: 'POST /api/campaigns/:id/leads/:leadId/pause', action: 'update', ok: 200, make: withLead('active') },
    { ...base, route: 'POST /api/campaigns/:id/leads/:leadId/resume', action: 'update', ok: 200, make: withLead('paused') },
    { ...base, route: 'POST /api/campaigns/:id/leads/:leadId/unsubscribe', action: 'update', ok: 200, make: withLead('pending') },
    { ...base, route: 'GET /api/campaigns/:id/leads/:leadId/messages', action: 'read', ok: 200, make: withLead('pending') },
    {
      ...base,
      idPrefix: 'msg',
      route: 'GET /api/outbox/:id/received',
      action: 'read',
      ok: 200,
      make: { own: sentMessage(owner, c0), otherTenant: sentMessage(ownerB, cb), otherCustomer: sentMessage(owner, c1) },
    },
    { ...base, idPrefix: 'lead', route: 'GET /api/leads/:id', action: 'read', ok: 200, make: leads },
    { ...base, idPrefix: 'lead', route: 'PATCH /api/leads/:id', action: 'update', ok: 200, body: { company: 'Matrix' }, make: leads },
    { ...base, idPrefix: 'lead', route: 'DELETE /api/leads/:id', action: 'delete', ok: 204, make: leads },
  ];
}

/** A campaign whose running lead runs version 1 while the campaign has taken version 2: there is something to upgrade. */
const campaignBehind = (agent: () => Agent, customerId: () => string) => async () => {
  const cmp = (await campaignOf(agent, customerId, 'active')()).split('|')[0]!;
  const res = await agent()
    .post(`/api/campaigns/${cmp}/sequence`)
    .set('X-Customer-Id', customerId())
    .send({ steps: [{ subject: 'Hi again', body: 'Hello', delayHours: 0 }] });
  if (res.status !== 201) throw new Error(`fixture sequence version: ${res.status}`);
  return cmp;
};

function sequenceUpgradeRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const c1 = () => a.customers[1]!.id;
  const cb = () => b.customers[0]!.id;
  const owner = () => agents.ownerA;
  const ownerB = () => agents.ownerB;
  const behind = { own: campaignBehind(owner, c0), otherTenant: campaignBehind(ownerB, cb), otherCustomer: campaignBehind(owner, c1) };
  const base = { caller: 'owner' as const, customerId: c0, idPrefix: 'cmp' as const };
  return [
    { ...base, route: 'GET /api/campaigns/:id/sequence/running', action: 'read', ok: 200, make: behind },
    { ...base, route: 'POST /api/campaigns/:id/sequence/upgrade', action: 'update', ok: 200, make: behind },
  ];
}

function send(agent: Agent, route: string, id: string, body: unknown, customerId?: string) {
  const [method, pattern] = route.split(' ') as [string, string];
  // "a|b" fills two path parameters in order.
  const ids = id.split('|');
  let i = 0;
  const path = pattern.replace(/:[A-Za-z]+/g, () => ids[i++] ?? ids[0]!);
  let req = (agent as unknown as Record<string, (p: string) => ReturnType<Agent['get']>>)[method.toLowerCase()]!(path);
  if (customerId) req = req.set('X-Customer-Id', customerId);
  return body === undefined ? req : req.send(body as object);
}

describe('isolation matrix', () => {
  it('answers own → 2xx; other tenant / other customer / nonexistent → the same 404', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const row of rows()) {
      const caller = row.caller === 'owner' ? agents.ownerA : agents.restrictedA;
      const cases: [Case, () => Promise<string>][] = [
        ['own', row.make.own],
        ['otherTenant', row.make.otherTenant],
        ['nonexistent', async () => (row.make.nonexistent ? row.make.nonexistent() : newId(row.idPrefix!))],
        ...(row.make.otherCustomer ? ([['otherCustomer', row.make.otherCustomer]] as [Case, () => Promise<string>][]) : []),
      ];
      const notFoundBodies = new Set<string>();
      for (const [kase, make] of cases) {
        const id = await make();
        const res = await send(caller, row.route, id, row.bodyOf ? row.bodyOf(id) : row.body, row.customerId?.());
        const expected = kase === 'own' ? row.ok : 404;
        checked++;
        if (res.status !== expected)
          failures.push(`${row.caller} ${row.route} ${row.action} ${kase}: ${res.status} (expected ${expected}) ${JSON.stringify(res.body)}`);
        if (kase !== 'own') notFoundBodies.add(JSON.stringify(res.body));
      }
      // "Exactly as a resource that does not exist": one body for every 404.
      if (notFoundBodies.size > 1) failures.push(`${row.route}: different 404 bodies ${[...notFoundBodies].join(' | ')}`);
    }
    expect(failures).toEqual([]);
    expect(checked).toBeGreaterThan(140);
  });

  it('lists only the caller’s own tenant (and customer)', async () => {
    const ownerList = await agents.ownerA.get('/api/customers?limit=200');
    const ids = (ownerList.body as { data: { id: string }[] }).data.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(a.customers.map((c) => c.id)));
    expect(ids).not.toContain(b.customers[0]!.id);
    const restrictedList = await agents.restrictedA.get('/api/customers');
    expect((restrictedList.body as { data: { id: string }[] }).data.map((c) => c.id)).toEqual([a.customers[0]!.id]);
    const bRoles = await agents.ownerB.get('/api/roles');
    const bRoleIds = (bRoles.body as { data: { id: string }[] }).data.map((r) => r.id);
    expect(bRoleIds).not.toContain(a.roles.owner);
  });

  it('tries another customer’s resource on every route that addresses one in a customer', () => {
    const withOtherCustomer = new Set(
      rows()
        .filter((r) => r.make.otherCustomer)
        .map((r) => r.route),
    );
    const addressed = routeSpecsOf(testApp(app))
      .filter((r) => r.customer === 'addressed')
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect([...new Set(addressed)].filter((r) => !withOtherCustomer.has(r))).toEqual([]);
  });

  it('covers every tenant route that addresses a single resource', () => {
    const covered = new Set(rows().map((r) => r.route));
    const addressed = routeSpecsOf(testApp(app))
      .filter((r) => r.auth === 'tenant' && /:[A-Za-z]/.test(r.path))
      .map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect([...new Set(addressed)].filter((r) => !covered.has(r))).toEqual([]);
  });
});

/** A campaign's readiness and its bulk fix-and-resume. */
function leadFixRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const owner = () => agents.ownerA;
  const cmp = {
    own: campaignOf(owner, c0),
    otherTenant: campaignOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: campaignOf(owner, () => a.customers[1]!.id),
  };
  const base = { caller: 'owner' as const, customerId: c0, idPrefix: 'cmp' as const, make: cmp };
  return [
    { ...base, route: 'GET /api/campaigns/:id/readiness', action: 'read', ok: 200 },
    { ...base, route: 'POST /api/campaigns/:id/leads/resume', action: 'update', ok: 200, body: { leads: [] } },
  ];
}

/** A conversation of a customer: an inbox made through the API, a lead and its thread written in the tenant's context. */
async function seedConversation(agent: Agent, t: TenantFixture, customerId: string): Promise<{ id: string; inbox: string; lead: string }> {
  const inbox = await created(agent, '/api/inboxes', { provider: 'smartlead', fromEmail: `${newId('usr')}@sender.example`, dailyCap: 20 }, customerId);
  const id = newId('conv');
  const lead = newId('lead');
  await withTenant(app, t.tenant.id, async (m) => {
    await m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
      lead,
      customerId,
      `${lead}@lead.example`,
    ]);
    await m.query(
      "INSERT INTO conversations (tenant_id, id, customer_id, inbox_id, lead_id, subject) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, 'Hi')",
      [id, customerId, inbox, lead],
    );
  });
  return { id, inbox, lead };
}

/** A fixture made in tenant A's first customer (own), tenant B's (other tenant) and A's second (other customer); `of` answers the row's id. */
function threeWays(of: (agent: Agent, t: TenantFixture, customerId: string) => Promise<string>) {
  return {
    own: () => of(agents.ownerA, a, a.customers[0]!.id),
    otherTenant: () => of(agents.ownerB, b, b.customers[0]!.id),
    otherCustomer: () => of(agents.ownerA, a, a.customers[1]!.id),
  };
}

/** Conversations, read and changed. */
function conversationRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const make = threeWays(async (agent, t, customerId) => (await seedConversation(agent, t, customerId)).id);
  const rowsFor = (caller: Caller): Row[] => [
    { caller, customerId: c0, idPrefix: 'conv', make, route: 'GET /api/conversations/:id', action: 'read', ok: 200 },
    {
      caller,
      customerId: c0,
      idPrefix: 'conv',
      make,
      route: 'PATCH /api/conversations/:id',
      action: 'update',
      ok: 200,
      body: { status: 'closed', read: true },
    },
  ];
  return [...rowsFor('owner'), ...rowsFor('restricted')];
}

/** An attachment of an inbound message in a customer's conversation, addressed as "conversation|attachment". */
function attachmentRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const make = {
    ...threeWays(async (agent, t, customerId) => {
      const conversation = await seedConversation(agent, t, customerId);
      const message = newId('msg');
      const attachment = newId('att');
      await withTenant(app, t.tenant.id, async (m) => {
        await m.query(
          `INSERT INTO messages (tenant_id, id, customer_id, lead_id, inbox_id, direction, origin, status, message_id, conversation_id)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, 'inbound', 'manual', 'received', $5, $6)`,
          [message, customerId, conversation.lead, conversation.inbox, `<${message}@lead.example>`, conversation.id],
        );
        await m.query(
          "INSERT INTO message_attachments (tenant_id, id, message_id, customer_id, filename, content_type, size, content) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'a.txt', 'text/plain', 2, 'hi')",
          [attachment, message, customerId],
        );
      });
      return `${conversation.id}|${attachment}`;
    }),
    nonexistent: () => `${newId('conv')}|${newId('att')}`,
  };
  return (['owner', 'restricted'] as const).map((caller) => ({
    caller,
    customerId: c0,
    make,
    route: 'GET /api/conversations/:id/attachments/:attachmentId',
    action: 'read' as const,
    ok: 200,
  }));
}

/** A lead with its timeline and conversations: the expanded read answers like the plain one, for an owner and a restricted member. */
function leadExpansionRows(): Row[] {
  const lead = (agent: () => Agent, customerId: () => string) => async () => (await campaignOf(agent, customerId, 'active')()).split('|')[1]!;
  const make = {
    own: lead(
      () => agents.ownerA,
      () => a.customers[0]!.id,
    ),
    otherTenant: lead(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: lead(
      () => agents.ownerA,
      () => a.customers[1]!.id,
    ),
  };
  const row = (caller: Caller): Row => ({
    caller,
    customerId: () => a.customers[0]!.id,
    idPrefix: 'lead',
    make,
    route: 'GET /api/leads/:id?expand=activity,conversations',
    action: 'read',
    ok: 200,
  });
  return [row('owner'), row('restricted')];
}

/** A manual message: sent (queued, on a queue no worker polls) into a conversation of a customer; the send addresses the conversation in its body. */
function messageRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const conversations = threeWays(async (agent, t, customerId) => (await seedConversation(agent, t, customerId)).id);
  const messages = threeWays(async (agent, t, customerId) => {
    const conversationId = (await seedConversation(agent, t, customerId)).id;
    const res = await agent.post('/api/messages/send').set('X-Customer-Id', customerId).send({ conversationId, text: 'Matrix reply' });
    if (res.status !== 202) throw new Error(`fixture message: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: string }).id;
  });
  const rowsFor = (caller: Caller): Row[] => [
    {
      caller,
      customerId: c0,
      idPrefix: 'conv',
      make: conversations,
      route: 'POST /api/messages/send',
      action: 'create-from',
      ok: 202,
      bodyOf: (conversationId) => ({ conversationId, text: 'Matrix reply' }),
    },
    { caller, customerId: c0, idPrefix: 'msg', make: messages, route: 'GET /api/messages/:id', action: 'read', ok: 200 },
  ];
  return [...rowsFor('owner'), ...rowsFor('restricted')];
}

/** Publishable keys of a tenant's customer, revoked by an owner. */
function publishableKeyRows(): Row[] {
  const key = (agent: () => Agent, customerId: () => string) => () =>
    created(agent(), '/api/publishable-keys', { name: 'Matrix site', customerId: customerId(), allowedOrigins: ['https://www.matrix.example'] });
  const make = {
    own: key(
      () => agents.ownerA,
      () => a.customers[0]!.id,
    ),
    otherTenant: key(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
  };
  return [{ route: 'DELETE /api/publishable-keys/:id', action: 'delete', caller: 'owner', ok: 204, make, idPrefix: 'pkey' }];
}

/** The matrix app's keyring (the tracking rows sign their tokens with it). */
const isolationKeyring = parseKeyring(`v1:${generateKey()}`, 'v1');

/**
 * A campaign's tracking setting, and the public tracking routes: a token is
 * scoped to the message it names, and one validly signed but naming another
 * tenant's message (as tenant A's), or a message that does not exist, is the
 * same 404 as a bad one.
 */
function trackingRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const owner = () => agents.ownerA;
  const ownerB = () => agents.ownerB;
  const cmp = {
    own: campaignOf(owner, c0),
    otherTenant: campaignOf(ownerB, () => b.customers[0]!.id),
    otherCustomer: campaignOf(owner, () => a.customers[1]!.id),
  };
  const sign = (kind: 'open' | 'click', messageId: string) => {
    const t = signTrackingToken(isolationKeyring, { kind, tenantId: a.tenant.id, messageId, url: kind === 'click' ? 'https://example.com/' : '' });
    return kind === 'open' ? `${t}.gif` : t;
  };
  // Every token says tenant A; the other tenant's is B's message under A's name.
  const tokens = (kind: 'open' | 'click') => ({
    own: async () => sign(kind, await sentMessage(owner, c0)()),
    otherTenant: async () => sign(kind, await sentMessage(ownerB, () => b.customers[0]!.id)()),
    nonexistent: () => sign(kind, newId('msg')),
  });
  return [
    { caller: 'owner', customerId: c0, idPrefix: 'cmp', make: cmp, route: 'PATCH /api/campaigns/:id', action: 'update', ok: 200, body: { tracking: true } },
    { caller: 'owner', make: tokens('click'), route: 'GET /api/t/c/:token', action: 'read', ok: 302 },
    { caller: 'owner', make: tokens('open'), route: 'GET /api/t/o/:token', action: 'read', ok: 200 },
  ];
}

/** A campaign's charts: its series is the campaign's, read in its customer. */
function chartRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const owner = () => agents.ownerA;
  const cmp = {
    own: campaignOf(owner, c0),
    otherTenant: campaignOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: campaignOf(owner, () => a.customers[1]!.id),
  };
  return [{ caller: 'owner', customerId: c0, idPrefix: 'cmp', route: 'GET /api/campaigns/:id/analytics', action: 'read', ok: 200, make: cmp }];
}

describe("a customer's dashboard", () => {
  it('answers in the caller’s own customer only', async () => {
    const own = await agents.restrictedA.get('/api/analytics/summary').set('X-Customer-Id', a.customers[0]!.id);
    expect(own.status).toBe(200);
    for (const other of [a.customers[1]!.id, b.customers[0]!.id]) {
      const res = await agents.restrictedA.get('/api/analytics/summary').set('X-Customer-Id', other);
      expect(res.status).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('invalid_customer_context');
    }
    const crossTenant = await agents.ownerA.get('/api/analytics/summary').set('X-Customer-Id', b.customers[0]!.id);
    expect(crossTenant.status).toBe(400);
  });
});

/** A completed export of a customer, written as the export workflow leaves it (its row and its file); answers "id|tenant|expires|sig" of its signed link. */
async function completedExport(t: TenantFixture, customerId: string): Promise<string> {
  const id = newId('exp');
  const key = randomBytes(32);
  await withTenant(app, t.tenant.id, (m) =>
    m.query(
      `INSERT INTO analytics_exports (tenant_id, id, customer_id, format, filters, status, file_name, link_key, completed_at)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'csv', '{"from":"2024-01-01","to":"2024-01-02","timeZone":"UTC"}', 'completed', $3, $4, now())`,
      [id, customerId, `${id}.csv`, key],
    ),
  );
  const file = exportFilePath(defaultExportDir(), t.tenant.id, `${id}.csv`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'seq\n');
  exportFiles.push(file);
  const expires = Math.floor(Date.now() / 1000) + 3600;
  return [id, t.tenant.id, expires, exportLinkSignature(key, { tenantId: t.tenant.id, exportId: id, expires })].join('|');
}

const exportFiles: string[] = [];
afterAll(() => exportFiles.forEach((f) => fs.rmSync(f, { force: true })));

/** Analytics exports: the streamed export and the pull filter by a campaign of the customer; an export's status; a signed link names one export of one tenant. */
function analyticsExportRows(): Row[] {
  const c0 = () => a.customers[0]!.id;
  const owner = () => agents.ownerA;
  const campaigns = {
    own: campaignOf(owner, c0),
    otherTenant: campaignOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: campaignOf(owner, () => a.customers[1]!.id),
  };
  const exportsOf = threeWays(async (agent, _t, customerId) => created202(agent, customerId));
  const ownLink = () => completedExport(a, a.customers[0]!.id);
  /** Another export's id under the own link's tenant, expiry and signature. */
  const swapped = (id: () => Promise<string>) => async () => {
    const [, ...rest] = (await ownLink()).split('|');
    return [(await id()).split('|')[0], ...rest].join('|');
  };
  const base = { caller: 'owner' as const, customerId: c0 };
  return [
    { ...base, route: 'GET /api/analytics/export?from=2024-01-01&to=2024-01-02&campaignId=:id', action: 'read', ok: 200, make: campaigns, idPrefix: 'cmp' },
    { ...base, route: 'GET /api/analytics/events?campaignId=:id', action: 'read', ok: 200, make: campaigns, idPrefix: 'cmp' },
    {
      ...base,
      route: 'POST /api/analytics/exports',
      action: 'create-from',
      ok: 202,
      make: campaigns,
      idPrefix: 'cmp',
      bodyOf: (campaignId) => ({ from: '2024-01-01', to: '2024-01-02', campaignId }),
    },
    { ...base, route: 'GET /api/analytics/exports/:id', action: 'read', ok: 200, make: { ...exportsOf, nonexistent: () => newId('exp') } },
    {
      ...base,
      route: 'GET /api/analytics/exports/:id/download?tenant=:tenant&expires=:expires&sig=:sig',
      action: 'read',
      ok: 200,
      make: {
        own: ownLink,
        otherTenant: swapped(() => completedExport(b, b.customers[0]!.id)),
        otherCustomer: swapped(() => completedExport(a, a.customers[1]!.id)),
        nonexistent: () => `${newId('exp')}|${a.tenant.id}|${Math.floor(Date.now() / 1000) + 3600}|${'0'.repeat(64)}`,
      },
    },
  ];
}

/** An export started through the API (its workflow waits on a queue no worker polls). */
async function created202(agent: Agent, customerId: string): Promise<string> {
  const res = await agent.post('/api/analytics/exports').set('X-Customer-Id', customerId).send({ from: '2024-01-01', to: '2024-01-02' });
  if (res.status !== 202) throw new Error(`fixture export: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as { id: string }).id;
}

/** An automation written as the definitions service leaves it (enabled, version 1 live), of the tenant or of a customer. */
const triggerable = (t: () => TenantFixture, customerId?: () => string) => async () =>
  (
    await insertAutomation(app, t().tenant.id, isolationKeyring, {
      definitions: [{ trigger: { type: 'manual' }, steps: [] }],
      customerId: customerId?.() ?? null,
    })
  ).id;

/** Triggering by hand and the schedule's times: the caller's own automation only; a restricted member's, its customer's only. */
function automationTriggerRows(): Row[] {
  const A = () => a;
  const B = () => b;
  const make = { own: triggerable(A), otherTenant: triggerable(B) };
  const restricted = {
    own: triggerable(A, () => a.customers[0]!.id),
    otherTenant: triggerable(B),
    otherCustomer: triggerable(A, () => a.customers[1]!.id),
  };
  const base = { caller: 'owner' as const, idPrefix: 'auto' as const, make };
  return [
    { ...base, route: 'POST /api/automations/:id/execute', action: 'create-from', ok: 202, body: { dryRun: true } },
    { ...base, route: 'GET /api/automations/:id/schedule', action: 'read', ok: 200 },
    { ...base, caller: 'restricted', route: 'GET /api/automations/:id/schedule', action: 'read', ok: 200, make: restricted },
    // A tenant-wide automation is out of a restricted member's reach too.
    {
      ...base,
      caller: 'restricted',
      route: 'GET /api/automations/:id/schedule',
      action: 'read',
      ok: 200,
      make: { ...restricted, otherCustomer: triggerable(A) },
    },
  ];
}

/**
 * A member's notifications: their own is marked read; another tenant's, and
 * another member's of the same tenant (in the `otherCustomer` place: the
 * neighbour inside the tenant), are the same 404 as one that does not exist.
 */
function notificationRows(): Row[] {
  const note = (t: () => TenantFixture, agent: () => Agent) => async () => {
    const userId = ((await agent().get('/api/auth/me')).body as { user: { id: string } }).user.id;
    const id = newId('ntf');
    await withTenant(app, t().tenant.id, (m) =>
      m.query("INSERT INTO notifications (tenant_id, id, user_id, title) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Matrix')", [id, userId]),
    );
    return id;
  };
  const make = {
    own: note(
      () => a,
      () => agents.ownerA,
    ),
    otherTenant: note(
      () => b,
      () => agents.ownerB,
    ),
    otherCustomer: note(
      () => a,
      () => agents.restrictedA,
    ),
    nonexistent: () => newId('ntf'),
  };
  return [{ route: 'POST /api/notifications/:id/read', action: 'update', caller: 'owner', ok: 200, make }];
}

/** A lead's stage and tags, set by PATCH, in the lead's customer only. */
function leadStageRows(): Row[] {
  const leadOf = (agent: () => Agent, customerId: () => string) => async () => (await campaignOf(agent, customerId, 'pending')()).split('|')[1]!;
  const make = {
    own: leadOf(
      () => agents.ownerA,
      () => a.customers[0]!.id,
    ),
    otherTenant: leadOf(
      () => agents.ownerB,
      () => b.customers[0]!.id,
    ),
    otherCustomer: leadOf(
      () => agents.ownerA,
      () => a.customers[1]!.id,
    ),
  };
  const base = { customerId: () => a.customers[0]!.id, idPrefix: 'lead' as const, make, route: 'PATCH /api/leads/:id', action: 'update' as const, ok: 200 };
  return [
    { ...base, caller: 'owner', body: { stage: 'won', tags: ['matrix'] } },
    { ...base, caller: 'restricted', body: { stage: 'interested', tags: [] } },
  ];
}

/**
 * Automation runs (rows written directly): an automation's run list, a run,
 * its cancel and its rerun. A member restricted to a customer sees the runs
 * of that customer's automations only, and may not cancel or rerun.
 */
function automationRunRows(): Row[] {
  const automationOf = (t: () => TenantFixture, customerId?: () => string) => () => insertRunAutomation(app, t().tenant.id, { customerId: customerId?.() });
  const runOf = (t: () => TenantFixture, status: 'queued' | 'failed', customerId?: () => string) => async (): Promise<string> => {
    const automationId = await automationOf(t, customerId)();
    return status === 'failed' ? insertFailedRun(app, t().tenant.id, automationId) : insertRunRow(app, t().tenant.id, { automationId, status });
  };
  const A = () => a;
  const B = () => b;
  const c0 = () => a.customers[0]!.id;
  const c1 = () => a.customers[1]!.id;
  const autos = { own: automationOf(A), otherTenant: automationOf(B), nonexistent: () => newId('auto') };
  const restrictedAutos = { own: automationOf(A, c0), otherTenant: automationOf(B), otherCustomer: automationOf(A, c1), nonexistent: () => newId('auto') };
  const runs = (status: 'queued' | 'failed') => ({ own: runOf(A, status), otherTenant: runOf(B, status), nonexistent: () => newId('arun') });
  const restrictedRuns = {
    own: runOf(A, 'queued', c0),
    otherTenant: runOf(B, 'queued'),
    otherCustomer: runOf(A, 'queued', c1),
    nonexistent: () => newId('arun'),
  };
  return [
    { route: 'GET /api/automations/:id/runs', action: 'read', caller: 'owner', ok: 200, make: autos },
    { route: 'GET /api/automations/:id/runs', action: 'read', caller: 'restricted', ok: 200, make: restrictedAutos },
    { route: 'GET /api/automation-runs/:id', action: 'read', caller: 'owner', ok: 200, make: runs('queued') },
    { route: 'GET /api/automation-runs/:id', action: 'read', caller: 'restricted', ok: 200, make: restrictedRuns },
    { route: 'POST /api/automation-runs/:id/cancel', action: 'update', caller: 'owner', ok: 202, make: runs('queued') },
    { route: 'POST /api/automation-runs/:id/rerun', action: 'create-from', caller: 'owner', ok: 202, make: runs('failed') },
  ];
}

/** An automation of the tenant (or of a customer), its version 1 published: enabling needs a live version. */
const publishedAutomationOf =
  (agent: () => Agent, customerId?: () => string, version = false) =>
  async () => {
    const definition = { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'matrix' }] };
    const id = await created(agent(), '/api/automations', { name: 'Matrix automation', customerId: customerId?.() ?? null, definition });
    const res = await agent().post(`/api/automations/${id}/publish`).send({ version: 1 });
    if (res.status !== 200) throw new Error(`fixture publish: ${res.status} ${JSON.stringify(res.body)}`);
    return version ? `${id}|1` : id;
  };

/** Automations: the tenant's (the owner), and a restricted member's view of its customer's (tenant-wide ones are hidden from it too). */
function automationRows(): Row[] {
  const owner = () => agents.ownerA;
  const ownerB = () => agents.ownerB;
  const make = { own: publishedAutomationOf(owner), otherTenant: publishedAutomationOf(ownerB) };
  const versions = {
    own: publishedAutomationOf(owner, undefined, true),
    otherTenant: publishedAutomationOf(ownerB, undefined, true),
    nonexistent: () => `${newId('auto')}|1`,
  };
  const c0 = () => a.customers[0]!.id;
  const restricted = {
    own: publishedAutomationOf(owner, c0),
    otherTenant: publishedAutomationOf(ownerB),
    otherCustomer: publishedAutomationOf(owner, () => a.customers[1]!.id),
  };
  const definition = { trigger: { type: 'manual' }, steps: [{ type: 'add_tag', tag: 'edited' }] };
  const base = { caller: 'owner' as const, idPrefix: 'auto' as const, make };
  return [
    { ...base, route: 'GET /api/automations/:id', action: 'read', ok: 200 },
    { ...base, route: 'PATCH /api/automations/:id', action: 'update', ok: 200, body: { name: 'Renamed' } },
    { ...base, route: 'DELETE /api/automations/:id', action: 'delete', ok: 204 },
    { ...base, route: 'GET /api/automations/:id/versions', action: 'read', ok: 200 },
    { ...base, route: 'GET /api/automations/:id/versions/:version', action: 'read', ok: 200, make: versions },
    { ...base, route: 'POST /api/automations/:id/versions', action: 'create-from', ok: 201, body: { definition } },
    { ...base, route: 'POST /api/automations/:id/publish', action: 'update', ok: 200, body: { version: 1 } },
    { ...base, route: 'POST /api/automations/:id/enable', action: 'update', ok: 200 },
    { ...base, route: 'POST /api/automations/:id/disable', action: 'update', ok: 200 },
    { ...base, route: 'POST /api/automations/:id/webhook-secret', action: 'update', ok: 200 },
    { ...base, caller: 'restricted', route: 'GET /api/automations/:id', action: 'read', ok: 200, make: restricted },
    { ...base, caller: 'restricted', route: 'GET /api/automations/:id/versions', action: 'read', ok: 200, make: restricted },
    // A tenant-wide automation is out of a restricted member's reach too.
    {
      ...base,
      caller: 'restricted',
      route: 'GET /api/automations/:id',
      action: 'read',
      ok: 200,
      make: { ...restricted, otherCustomer: publishedAutomationOf(owner) },
    },
  ];
}
