// Triggering automations through the API (docs/automations.md, "Triggers"):
// execute by hand (a real run of the live version, or a dry run of any
// version; an Idempotency-Key retried is the same run) and the signed
// inbound webhook, where every delivery that does not prove the
// automation's own secret gets the same 401 and records nothing, and the
// same delivery ten times at once is one run.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { type Definition } from '../lib/automations';
import { generateKey, parseKeyring } from '../lib/encryption';
import { signAutomationWebhook } from '../services/automations/webhooks';
import { insertAutomation, insertLead, runsOf } from '../test/helpers/automationTriggers';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { temporalAddress } from '../test/helpers/temporal';
import { type AppState } from './state';

const keyring = parseKeyring(`k1:${generateKey()}`, 'k1');
const manual: Definition = { trigger: { type: 'manual' }, steps: [] };
const hooked: Definition = { trigger: { type: 'webhook' }, steps: [] };

let db: TestDatabase;
let ds: DataSource;
let connection: Connection;
let client: Client;
let api: Koa<AppState>;
let t: TenantFixture;
let other: TenantFixture;
let owner: Agent;
let viewer: Agent;
let restricted: Agent;

beforeAll(async () => {
  db = await createTestDatabase('automation-triggers');
  ds = await openDataSource(db.appUrl);
  connection = await Connection.connect({ address: temporalAddress() });
  client = new Client({ connection });
  api = testApp(ds, { client, taskQueue: `idle-${randomUUID()}`, keyring });
  t = await createTenant(ds, { customers: 2 });
  other = await createTenant(ds, { customers: 1 });
  const users = await Promise.all([createUser(ds), createUser(ds), createUser(ds)]);
  await addMember(ds, t, users[0]!, 'owner');
  await addMember(ds, t, users[1]!, 'viewer');
  await addMember(ds, t, users[2]!, 'admin', t.customers[0]!.id);
  [owner, viewer, restricted] = await Promise.all(users.map((u) => signIn(api, u.email)));
});

afterAll(async () => {
  for (const tenant of [t, other]) {
    if (!tenant) continue;
    for await (const wf of client.workflow.list({ query: `TenantId = '${tenant.tenant.id}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(wf.workflowId)
        .terminate('trigger test done')
        .catch(() => undefined);
    }
  }
  await connection?.close();
  await ds?.destroy();
  await db?.drop();
});

describe('POST /api/automations/:id/execute', () => {
  it('runs the live version with the input as the trigger payload, once per Idempotency-Key', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [manual] });
    const lead = await insertLead(ds, t.tenant.id, t.customers[0]!.id);
    const send = () =>
      owner
        .post(`/api/automations/${a.id}/execute`)
        .set('Idempotency-Key', 'exec-1')
        .send({ input: { plan: 'pro' }, leadId: lead });
    const first = await send();
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ runId: expect.stringMatching(/^arun_/), status: 'queued' });
    const again = await send();
    expect(again.status).toBe(202);
    expect((again.body as { runId: string }).runId).toBe((first.body as { runId: string }).runId);
    const runs = await runsOf(ds, t.tenant.id, a.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ lead_id: lead, dedupe_key: 'execute:exec-1', dry_run: false, trigger: { type: 'manual', payload: { plan: 'pro' } } });
    // Admitted after the commit: its workflow started.
    expect(runs[0]!.status).toBe('running');
  });

  it('dry-runs a draft version of a disabled automation, and refuses a real run of it', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [manual, manual], enabled: false });
    const dry = await owner.post(`/api/automations/${a.id}/execute`).send({ dryRun: true, version: 2 });
    expect(dry.status).toBe(202);
    expect((await runsOf(ds, t.tenant.id, a.id))[0]).toMatchObject({ dry_run: true });
    const real = await owner.post(`/api/automations/${a.id}/execute`).send({});
    expect(real.status).toBe(409);
    expect((real.body as { error: { code: string } }).error.code).toBe('automation_disabled');
    const draft = await owner.post(`/api/automations/${a.id}/execute`).send({ version: 2 });
    expect(draft.status).toBe(409);
    expect((await owner.post(`/api/automations/${a.id}/execute`).send({ dryRun: true, version: 9 })).status).toBe(404);
    expect(await runsOf(ds, t.tenant.id, a.id)).toHaveLength(1);
  });

  it('needs automations.execute, hides another customer’s automation, and refuses bad input with nothing written', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [manual], customerId: t.customers[1]!.id });
    expect((await viewer.post(`/api/automations/${a.id}/execute`).send({})).status).toBe(403);
    expect((await restricted.post(`/api/automations/${a.id}/execute`).send({})).status).toBe(404);
    const otherLead = await insertLead(ds, t.tenant.id, t.customers[0]!.id);
    expect((await owner.post(`/api/automations/${a.id}/execute`).send({ leadId: otherLead })).status).toBe(404);
    for (const body of [{ input: 'x' }, { version: 0 }, { extra: 1 }, { input: { s: 'a\u0000b' } }]) {
      expect((await owner.post(`/api/automations/${a.id}/execute`).send(body)).status).toBe(400);
    }
    expect(await runsOf(ds, t.tenant.id, a.id)).toEqual([]);
  });
});

describe('GET /api/automations/:id/schedule', () => {
  it('answers no schedule for an automation without one', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [manual] });
    const res = await viewer.get(`/api/automations/${a.id}/schedule`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ scheduled: false, nextActionTimes: [] });
  });
});

describe('POST /api/webhooks/automations/:tenantId/:id', () => {
  const deliver = (tenantId: string, automationId: string, secret: string, opts: { id?: string; body?: string; at?: number } = {}) => {
    const body = opts.body ?? JSON.stringify({ order: 42 });
    const id = opts.id ?? `msg_${randomUUID()}`;
    const ts = opts.at ?? Math.floor(Date.now() / 1000);
    return request(api.callback())
      .post(`/api/webhooks/automations/${tenantId}/${automationId}`)
      .set('Content-Type', 'application/json')
      .set('webhook-id', id)
      .set('webhook-timestamp', String(ts))
      .set('webhook-signature', signAutomationWebhook(secret, id, ts, body))
      .send(body);
  };

  it('records one run per webhook-id, with the body as the payload', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked] });
    const res = await deliver(t.tenant.id, a.id, a.secret, { id: 'msg_once' });
    expect(res.status).toBe(202);
    const again = await deliver(t.tenant.id, a.id, a.secret, { id: 'msg_once' });
    expect(again.status).toBe(202);
    expect((again.body as { runId: string }).runId).toBe((res.body as { runId: string }).runId);
    const runs = await runsOf(ds, t.tenant.id, a.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ dedupe_key: 'webhook:msg_once', trigger: { type: 'webhook', payload: { order: 42 } } });
  });

  it('makes the same delivery ten times at once one run', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked] });
    const answers = await Promise.all(Array.from({ length: 10 }, () => deliver(t.tenant.id, a.id, a.secret, { id: 'msg_burst' })));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(new Set(answers.map((r) => (r.body as { runId: string }).runId)).size).toBe(1);
    expect(await runsOf(ds, t.tenant.id, a.id)).toHaveLength(1);
  });

  it('answers the same 401 to an unknown automation, another automation’s secret, a bad signature or an old timestamp, and records nothing', async () => {
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked] });
    const b = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked] });
    const elsewhere = await insertAutomation(ds, other.tenant.id, keyring, { definitions: [hooked] });
    // Sealed with a key the API's keyring no longer holds: nothing verifies against it (not even an empty key).
    const lost = await insertAutomation(ds, t.tenant.id, parseKeyring(`k9:${generateKey()}`, 'k9'), { definitions: [hooked] });
    const cases = [
      // The automation's own outbound call, replayed by its receiver: signed with the right secret, but an outbound id.
      deliver(t.tenant.id, a.id, a.secret, { id: `${newId('arun')}:0` }),
      deliver(t.tenant.id, lost.id, ''),
      deliver(t.tenant.id, lost.id, lost.secret),
      deliver(t.tenant.id, newId('auto'), a.secret),
      deliver(t.tenant.id, a.id, b.secret),
      deliver(t.tenant.id, a.id, 'whsec_' + Buffer.from('not the secret').toString('base64')),
      deliver(t.tenant.id, a.id, a.secret, { at: Math.floor(Date.now() / 1000) - 600 }),
      deliver(other.tenant.id, a.id, a.secret),
      deliver(t.tenant.id, elsewhere.id, elsewhere.secret),
      deliver(randomUUID(), a.id, a.secret),
      deliver('not-a-tenant', 'not-an-automation', a.secret),
    ];
    const answers = await Promise.all(cases);
    const shape = (r: request.Response) => ({
      status: r.status,
      code: (r.body as { error: { code: string; message: string } }).error?.code,
      message: (r.body as { error: { message: string } }).error?.message,
    });
    for (const r of answers) expect(shape(r)).toEqual(shape(answers[0]!));
    expect(answers[0]!.status).toBe(401);
    for (const x of [a, b, lost]) expect(await runsOf(ds, t.tenant.id, x.id)).toEqual([]);
    expect(await runsOf(ds, other.tenant.id, elsewhere.id)).toEqual([]);
  });

  it('tells a sender who proved the secret that the automation is off, and refuses a body the run cannot hold', async () => {
    const off = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked], enabled: false });
    expect((await deliver(t.tenant.id, off.id, off.secret)).status).toBe(409);
    const a = await insertAutomation(ds, t.tenant.id, keyring, { definitions: [hooked] });
    expect((await deliver(t.tenant.id, a.id, a.secret, { body: '{"s":"\\u0000"}' })).status).toBe(400);
    expect((await deliver(t.tenant.id, a.id, a.secret, { body: '{not json' })).status).toBe(400);
    expect(await withTenant(ds, t.tenant.id, (m) => m.query('SELECT 1 FROM automation_runs WHERE automation_id = ANY($1)', [[off.id, a.id]]))).toEqual([]);
  });
});
