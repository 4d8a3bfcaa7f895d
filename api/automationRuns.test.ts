// The run API (docs/automations.md, "Run API"): an automation's runs newest
// first and by status, one run with its steps in order and its workflow id,
// cancel (a queued run ends here; a running one through its workflow; an
// ended one is a 409) and rerun of a failed run (a new run on the failed
// run's own version, once however often it is asked). Rows are written
// directly (test/helpers/automationRows.ts); workflows start on a queue no
// worker polls, so what the API asked of Temporal stays visible.
import { randomUUID } from 'node:crypto';
import { type Client, type Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type Koa from 'koa';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { tenantSearchAttributes } from '../services/tenantWorkflows';
import { AUTOMATION_RUN, automationRunWorkflowId } from '../workflows/automationRun.contract';
import { testApp, type Agent } from '../test/helpers/api';
import { insertAutomation, insertFailedRun, insertRunRow } from '../test/helpers/automationRows';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { connectClient } from '../test/helpers/temporal';

const suite = useSuiteDatabase('automation_runs_api');
let ds: DataSource;
let app: Koa<AppState>;
let t: TenantFixture;
let owner: Agent;
let viewer: Agent;
let restricted: Agent;
let client: Client;
let connection: Connection;
const taskQueue = `idle-${randomUUID()}`;
const started: string[] = [];

beforeAll(async () => {
  ds = suite.ds;
  ({ client, connection } = await connectClient());
  app = testApp(ds, { client, taskQueue });
  t = await createTenant(ds, { customers: 2 });
  [owner, viewer, restricted] = await signedInMembers(ds, app, t, ['owner', 'viewer', ['member', t.customers[0]!.id]]);
});

afterAll(async () => {
  for (const id of started)
    await client.workflow
      .getHandle(id)
      .terminate('test done')
      .catch(() => undefined);
  await connection?.close();
});

const tenantId = () => t.tenant.id;
const runStatus = async (id: string) =>
  ((await withTenant(ds, tenantId(), (m) => m.query('SELECT status FROM automation_runs WHERE id = $1', [id]))) as { status: string }[])[0]?.status;
const wfId = (automationId: string, runId: string) => automationRunWorkflowId({ tenantId: tenantId(), automationId, runId });

describe('GET /api/automations/:id/runs', () => {
  it('lists the runs newest first, by status, page by page', async () => {
    const auto = await insertAutomation(ds, tenantId());
    const ids = [];
    for (const status of ['completed', 'failed', 'running', 'completed'] as const) ids.push(await insertRunRow(ds, tenantId(), { automationId: auto, status }));
    const all = await owner.get(`/api/automations/${auto}/runs`);
    expect(all.status).toBe(200);
    expect((all.body as { data: { id: string }[] }).data.map((r) => r.id)).toEqual([...ids].reverse());
    const completed = await owner.get(`/api/automations/${auto}/runs?status=completed`);
    expect((completed.body as { data: { id: string; status: string }[] }).data.map((r) => r.id)).toEqual([ids[3], ids[0]]);
    const first = await owner.get(`/api/automations/${auto}/runs?limit=3`);
    const next = await owner.get(`/api/automations/${auto}/runs?limit=3&cursor=${(first.body as { nextCursor: string }).nextCursor}`);
    expect((next.body as { data: { id: string }[] }).data.map((r) => r.id)).toEqual([ids[0]]);
    expect((await owner.get(`/api/automations/${auto}/runs?status=lost`)).status).toBe(400);
    // An automation with no run yet lists nothing; one that does not exist is a 404.
    expect((await owner.get(`/api/automations/${await insertAutomation(ds, tenantId())}/runs`)).body).toEqual({ data: [], nextCursor: null });
    expect((await owner.get(`/api/automations/${newId('auto')}/runs`)).status).toBe(404);
  });

  it("shows a restricted member only its customer's automations", async () => {
    const mine = await insertAutomation(ds, tenantId(), { customerId: t.customers[0]!.id });
    const theirs = await insertAutomation(ds, tenantId(), { customerId: t.customers[1]!.id });
    const tenantWide = await insertAutomation(ds, tenantId());
    const runs = [mine, theirs, tenantWide].map((a) => insertRunRow(ds, tenantId(), { automationId: a }));
    const [mineRun, theirRun, wideRun] = await Promise.all(runs);
    expect((await restricted.get(`/api/automations/${mine}/runs`)).status).toBe(200);
    for (const other of [theirs, tenantWide]) expect((await restricted.get(`/api/automations/${other}/runs`)).status).toBe(404);
    expect((await restricted.get(`/api/automation-runs/${mineRun}`)).status).toBe(200);
    for (const other of [theirRun, wideRun]) expect((await restricted.get(`/api/automation-runs/${other}`)).status).toBe(404);
    const listed = (await restricted.get('/api/automation-runs?limit=200')).body as { data: { automationId: string }[] };
    expect(new Set(listed.data.map((r) => r.automationId))).toEqual(new Set([mine]));
  });
});

describe('GET /api/automation-runs/:id', () => {
  it('answers the run with its steps in order, its trigger, version, error and workflow id', async () => {
    const auto = await insertAutomation(ds, tenantId(), { versions: 2 });
    const runId = await insertFailedRun(ds, tenantId(), auto, { version: 1, trigger: { type: 'webhook', payload: { order: 42 } } });
    const res = await viewer.get(`/api/automation-runs/${runId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: runId,
      automationId: auto,
      version: 1,
      status: 'failed',
      triggerType: 'webhook',
      trigger: { type: 'webhook', payload: { order: 42 } },
      error: { code: 'webhook_failed', step: '2' },
      rerunOf: null,
      dryRun: false,
      reruns: [],
      workflowId: `tenant/${tenantId()}/automation/${auto}/run/${runId}`,
    });
    const steps = (res.body as { steps: { path: string; status: string; attempt: number }[] }).steps;
    expect(steps.map((s) => [s.path, s.status, s.attempt])).toEqual([
      ['0', 'completed', 1],
      ['1', 'completed', 1],
      ['2', 'failed', 3],
    ]);
    expect((await owner.get(`/api/automation-runs/${newId('arun')}`)).status).toBe(404);
  });
});

describe('POST /api/automation-runs/:id/cancel', () => {
  it('ends a queued run here, and refuses a run that has ended', async () => {
    const auto = await insertAutomation(ds, tenantId());
    const runId = await insertRunRow(ds, tenantId(), { automationId: auto, status: 'queued' });
    const res = await owner.post(`/api/automation-runs/${runId}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: runId, status: 'canceled' });
    expect(await runStatus(runId)).toBe('canceled');
    const again = await owner.post(`/api/automation-runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect((again.body as { error: { code: string } }).error.code).toBe('run_ended');
    const audit = await owner.get('/api/audit?action=automation_run_canceled');
    expect((audit.body as { data: { targetId: string }[] }).data.map((e) => e.targetId)).toContain(runId);
  });

  it("asks a running run's workflow to cancel, and leaves the row to the workflow", async () => {
    const auto = await insertAutomation(ds, tenantId());
    const runId = await insertRunRow(ds, tenantId(), { automationId: auto, status: 'running' });
    const workflowId = wfId(auto, runId);
    await client.workflow.start(AUTOMATION_RUN, {
      workflowId,
      taskQueue,
      args: [{ tenantId: tenantId(), automationId: auto, runId }],
      typedSearchAttributes: tenantSearchAttributes(tenantId()),
    });
    started.push(workflowId);
    const res = await owner.post(`/api/automation-runs/${runId}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: runId, status: 'cancel_requested' });
    expect(await runStatus(runId)).toBe('running');
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    expect(history.events!.some((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)).toBe(true);
  });

  it('ends a running run whose workflow is gone', async () => {
    const auto = await insertAutomation(ds, tenantId());
    const runId = await insertRunRow(ds, tenantId(), { automationId: auto, status: 'waiting' });
    expect((await owner.post(`/api/automation-runs/${runId}/cancel`)).body).toEqual({ id: runId, status: 'canceled' });
    expect(await runStatus(runId)).toBe('canceled');
  });

  it('is refused to a member who may only read automations', async () => {
    const auto = await insertAutomation(ds, tenantId());
    const runId = await insertRunRow(ds, tenantId(), { automationId: auto, status: 'queued' });
    expect((await viewer.post(`/api/automation-runs/${runId}/cancel`)).status).toBe(403);
    expect(await runStatus(runId)).toBe('queued');
  });
});

describe('POST /api/automation-runs/:id/rerun', () => {
  it("starts one new run on the failed run's own version, with its trigger and lead, however often it is asked", async () => {
    const auto = await insertAutomation(ds, tenantId(), { versions: 3 });
    const failed = await insertFailedRun(ds, tenantId(), auto, { version: 2, trigger: { type: 'manual', payload: { who: 'ops' } } });
    const [first, second] = await Promise.all([owner.post(`/api/automation-runs/${failed}/rerun`), owner.post(`/api/automation-runs/${failed}/rerun`)]);
    expect([first.status, second.status]).toEqual([202, 202]);
    const runId = (first.body as { runId: string }).runId;
    expect((second.body as { runId: string }).runId).toBe(runId);
    started.push(wfId(auto, runId));
    const rerun = await owner.get(`/api/automation-runs/${runId}`);
    expect(rerun.body).toMatchObject({ version: 2, rerunOf: failed, trigger: { type: 'manual', payload: { who: 'ops' } } });
    expect((await owner.get(`/api/automation-runs/${failed}`)).body).toMatchObject({ reruns: [runId] });
    const all = await withTenant(ds, tenantId(), (m) => m.query('SELECT id FROM automation_runs WHERE rerun_of = $1', [failed]));
    expect(all).toHaveLength(1);
    // Admitted after the commit: marked running and its workflow started (on a queue no worker polls).
    expect((rerun.body as { status: string }).status).toBe('running');
    const described = await client.workflow.getHandle(wfId(auto, runId)).describe();
    expect(described.type).toBe(AUTOMATION_RUN);
    const audit = await owner.get('/api/audit?action=automation_run_rerun');
    expect((audit.body as { data: { targetId: string }[] }).data.filter((e) => e.targetId === failed)).toHaveLength(1);
  });

  it('refuses a run that did not fail (409), and a member who may only read', async () => {
    const auto = await insertAutomation(ds, tenantId());
    for (const status of ['queued', 'running', 'completed', 'canceled'] as const) {
      const runId = await insertRunRow(ds, tenantId(), { automationId: auto, status });
      const res = await owner.post(`/api/automation-runs/${runId}/rerun`);
      expect(res.status).toBe(409);
      expect((res.body as { error: { code: string } }).error.code).toBe('run_not_failed');
    }
    const failed = await insertFailedRun(ds, tenantId(), auto);
    expect((await viewer.post(`/api/automation-runs/${failed}/rerun`)).status).toBe(403);
    expect((await restricted.post(`/api/automation-runs/${failed}/rerun`)).status).toBe(403);
  });
});
