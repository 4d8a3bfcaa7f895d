// The trigger dispatcher and the automation limits (docs/automations.md,
// "Triggers", "Limits"), against PostgreSQL and the dev server: events become
// runs once, filtered; the loop guard stops a lead re-triggering; one
// tenant's queue never holds up another's runs; the actions limit holds
// across processes; a schedule follows the tenant's zone through a DST
// change, ticks into one run and goes with its automation.
import { type Client, type Connection, ScheduleNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { insertEvents } from '../db/analyticsEvents';
import { insertRun, takeAutomationActions } from '../db/automationRuns';
import { newId } from '../db/ids';
import { setLeadStage } from '../db/leads';
import { withTenant } from '../db/tenantContext';
import { type Definition } from '../lib/automations';
import { generateKey, parseKeyring } from '../lib/encryption';
import { dispatchAutomationEvents, dispatchTenantEvents } from '../services/automations/dispatch';
import { startAutomationDispatcher } from '../services/automations/dispatcher';
import { afterAutomationChange } from '../services/automations/lifecycle';
import { automationScheduleId } from '../workflows/ids';
import { insertAutomation, insertLead, runsOf } from '../test/helpers/automationTriggers';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { until } from '../test/helpers/processes';
import { connectClient, uniqueTaskQueue, withProjectWorker } from '../test/helpers/temporal';

const keyring = parseKeyring(`k1:${generateKey()}`, 'k1');
/** Runs queued by tenant A in the fairness test: FAIRNESS_RUNS=5000 for the full-size case. */
const FAIRNESS_RUNS = Number(process.env.FAIRNESS_RUNS ?? 300);

let db: TestDatabase;
let owner: DataSource;
let app: DataSource;
let app2: DataSource;
let client: Client;
let connection: Connection;
let a: TenantFixture;
let b: TenantFixture;
const taskQueue = uniqueTaskQueue('dispatch');
const deps = () => ({ dataSource: app, client, taskQueue });

beforeAll(async () => {
  db = await createTestDatabase('automation-dispatch');
  owner = await openDataSource(db.ownerUrl);
  app = await openDataSource(db.appUrl, 'tenantflow-dispatch-one');
  app2 = await openDataSource(db.appUrl, 'tenantflow-dispatch-two');
  ({ client, connection } = await connectClient());
  a = await createTenant(app, { customers: 2 });
  b = await createTenant(app, { customers: 1 });
});

afterAll(async () => {
  for (const t of [a, b]) {
    if (!t) continue;
    for await (const wf of client.workflow.list({ query: `TenantId = '${t.tenant.id}' AND ExecutionStatus = 'Running'` })) {
      await client.workflow
        .getHandle(wf.workflowId)
        .terminate('dispatch test done')
        .catch(() => undefined);
    }
  }
  await connection?.close();
  await app2?.destroy();
  await app?.destroy();
  await owner?.destroy();
  await db?.drop();
});

const leadCreated = (filter?: Definition['filter']): Definition => ({ trigger: { type: 'lead.created' }, ...(filter ? { filter } : {}), steps: [] });

async function newLeadEvent(t: TenantFixture, customerId: string): Promise<string> {
  const lead = await insertLead(app, t.tenant.id, customerId);
  await withTenant(app, t.tenant.id, (m) => insertEvents(m, [{ type: 'lead.created', customerId, leadId: lead, dedupeKey: `lead.created:${lead}` }]));
  return lead;
}

/** Dispatches until the tenant's settled events are all read (events settle after the watermark's margin). */
async function dispatchSettled(t: TenantFixture): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  await dispatchTenantEvents(deps(), t.tenant.id, { marginSeconds: 0.1 });
}

async function setLimits(t: TenantFixture, limits: { maxRunning?: number; loopLimit?: number }): Promise<void> {
  await owner.query(
    'UPDATE tenants SET automation_max_running = coalesce($2, automation_max_running), automation_loop_limit = coalesce($3, automation_loop_limit) WHERE id = $1',
    [t.tenant.id, limits.maxRunning ?? null, limits.loopLimit ?? null],
  );
}

describe('event triggers', () => {
  it('records one run per triggering event, through the filter and the customer scope, and none for events from before it went live', async () => {
    const c0 = a.customers[0]!.id;
    const before = await newLeadEvent(a, c0);
    const all = await insertAutomation(app, a.tenant.id, keyring, { definitions: [leadCreated()] });
    const onlyC1 = await insertAutomation(app, a.tenant.id, keyring, { definitions: [leadCreated()], customerId: a.customers[1]!.id });
    const filtered = await insertAutomation(app, a.tenant.id, keyring, {
      definitions: [leadCreated({ '==': [{ var: 'lead.stage' }, 'won'] })],
    });
    const disabled = await insertAutomation(app, a.tenant.id, keyring, { definitions: [leadCreated()], enabled: false });
    await afterAutomationChange(deps(), a.tenant.id, all.id);

    const lead = await newLeadEvent(a, c0);
    await dispatchSettled(a);

    const runs = await runsOf(app, a.tenant.id, all.id);
    expect(runs.map((r) => r.lead_id)).toEqual([lead]);
    expect(runs.map((r) => r.lead_id)).not.toContain(before);
    expect(runs[0]!.dedupe_key).toMatch(/^event:aev_/);
    expect(runs[0]!.trigger).toMatchObject({ type: 'lead.created', payload: { leadId: lead, customerId: c0 } });
    // Admitted under the limit: running, its workflow started.
    expect(runs[0]!.status).toBe('running');
    for (const other of [onlyC1, filtered, disabled]) expect(await runsOf(app, a.tenant.id, other.id)).toEqual([]);
    const wf = await client.workflow.getHandle(`tenant/${a.tenant.id}/automation/${all.id}/run/${runs[0]!.id}`).describe();
    expect(wf.status.name).toBe('RUNNING');
  });

  it('makes the same event delivered ten times at once one run', async () => {
    const automation = await insertAutomation(app, b.tenant.id, keyring, { definitions: [leadCreated()] });
    await afterAutomationChange(deps(), b.tenant.id, automation.id);
    await newLeadEvent(b, b.customers[0]!.id);
    await new Promise((r) => setTimeout(r, 300));
    const pass = () => dispatchTenantEvents({ ...deps(), dataSource: app2 }, b.tenant.id, { marginSeconds: 0.1 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? pass() : dispatchTenantEvents(deps(), b.tenant.id, { marginSeconds: 0.1 }))));
    expect(await runsOf(app, b.tenant.id, automation.id)).toHaveLength(1);
    // Read again from the start (a cursor lost, a redelivery): still one run.
    await owner.query('UPDATE tenants SET automation_cursor = 0 WHERE id = $1', [b.tenant.id]);
    await Promise.all(Array.from({ length: 10 }, () => pass()));
    expect(await runsOf(app, b.tenant.id, automation.id)).toHaveLength(1);
  });
});

describe('the loop guard', () => {
  it('stops a lead re-triggering a stage-change automation at the limit, with the reason recorded', async () => {
    await setLimits(a, { loopLimit: 3 });
    const c0 = a.customers[0]!.id;
    const automation = await insertAutomation(app, a.tenant.id, keyring, {
      definitions: [{ trigger: { type: 'lead.stage_changed' }, steps: [{ type: 'set_stage', stage: 'interested' }] }],
    });
    await afterAutomationChange(deps(), a.tenant.id, automation.id);
    const lead = await insertLead(app, a.tenant.id, c0);
    const other = await insertLead(app, a.tenant.id, c0);
    // What the run's set_stage does to the lead, again and again: each change is a new stage_changed event.
    const stages = ['interested', 'meeting', 'interested', 'meeting', 'interested', 'meeting'];
    for (const [i, stage] of stages.entries()) {
      await withTenant(app, a.tenant.id, (m) => setLeadStage(m, c0, lead, stage, { dedupeKey: `run:loop:${i}`, automationId: automation.id }));
      await dispatchSettled(a);
    }
    await withTenant(app, a.tenant.id, (m) => setLeadStage(m, c0, other, 'won', { dedupeKey: 'stage:other' }));
    await dispatchSettled(a);

    const runs = await runsOf(app, a.tenant.id, automation.id);
    const ofLead = runs.filter((r) => r.lead_id === lead);
    expect(ofLead).toHaveLength(6);
    expect(ofLead.filter((r) => r.status !== 'canceled')).toHaveLength(3);
    const guarded = ofLead.filter((r) => r.status === 'canceled');
    expect(guarded).toHaveLength(3);
    for (const r of guarded) expect(r.error?.code).toBe('loop_guard');
    // Another lead has its own allowance.
    expect(runs.filter((r) => r.lead_id === other).map((r) => r.status)).not.toContain('canceled');
    await setLimits(a, { loopLimit: 5 });
  });
});

describe('the loop guard, end to end', () => {
  it('stops runs whose own set_stage re-triggers them, at the limit, with the reason recorded', async () => {
    const t = await createTenant(app, { customers: 1 });
    await setLimits(t, { loopLimit: 3 });
    const c0 = t.customers[0]!.id;
    // Each run flips the lead's stage, which is a new lead.stage_changed: the automation triggers itself.
    const automation = await insertAutomation(app, t.tenant.id, keyring, {
      definitions: [
        {
          trigger: { type: 'lead.stage_changed' },
          steps: [
            {
              type: 'branch',
              condition: { '==': [{ var: 'lead.stage' }, 'won'] },
              then: [{ type: 'set_stage', stage: 'lost' }],
              else: [{ type: 'set_stage', stage: 'won' }],
            },
          ],
        },
      ],
    });
    const loopDeps = { dataSource: app, client, taskQueue: uniqueTaskQueue('loop') };
    await afterAutomationChange(loopDeps, t.tenant.id, automation.id);
    const lead = await insertLead(app, t.tenant.id, c0);
    await withProjectWorker({ dataSource: app, taskQueue: loopDeps.taskQueue }, async () => {
      // A person moves the lead; from then on the automation moves it.
      await withTenant(app, t.tenant.id, (m) => setLeadStage(m, c0, lead, 'won', { dedupeKey: 'stage:person' }));
      await until(
        'the loop guard stops a run',
        async () => {
          await new Promise((r) => setTimeout(r, 300));
          await dispatchTenantEvents(loopDeps, t.tenant.id, { marginSeconds: 0.1 });
          return (await runsOf(app, t.tenant.id, automation.id)).some((r) => r.error?.code === 'loop_guard') ? true : undefined;
        },
        90_000,
        0,
      );
      // Nothing runs on: a few more passes start nothing new.
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300));
        await dispatchTenantEvents(loopDeps, t.tenant.id, { marginSeconds: 0.1 });
      }
    });
    const runs = await runsOf(app, t.tenant.id, automation.id);
    expect(runs.filter((r) => r.status === 'completed')).toHaveLength(3);
    expect(runs.filter((r) => r.status === 'canceled').map((r) => r.error?.code)).toEqual(['loop_guard']);
    expect(runs).toHaveLength(4);
  });
});

describe('fairness', () => {
  it(`admits tenant B's later run before tenant A's (N+1)-th of ${FAIRNESS_RUNS} queued runs`, async () => {
    const N = 3;
    const fa = await createTenant(app, { customers: 1 });
    const fb = await createTenant(app, { customers: 1 });
    await setLimits(fa, { maxRunning: N });
    await setLimits(fb, { maxRunning: N });
    const manual: Definition = { trigger: { type: 'manual' }, steps: [] };
    const autoA = await insertAutomation(app, fa.tenant.id, keyring, { definitions: [manual] });
    const autoB = await insertAutomation(app, fb.tenant.id, keyring, { definitions: [manual] });
    await afterAutomationChange(deps(), fa.tenant.id, autoA.id);
    await afterAutomationChange(deps(), fb.tenant.id, autoB.id);
    const queue = (t: TenantFixture, automationId: string, n: number) =>
      withTenant(app, t.tenant.id, async (m) => {
        for (let i = 0; i < n; i += 500) {
          const ids = Array.from({ length: Math.min(500, n - i) }, () => newId('arun'));
          for (const id of ids)
            await insertRun(m, { id, automationId, version: 1, customerId: null, leadId: null, trigger: { type: 'manual', payload: {} }, dedupeKey: null });
        }
      });
    await queue(fa, autoA.id, FAIRNESS_RUNS);
    await queue(fb, autoB.id, 1);

    await dispatchAutomationEvents(deps());
    const runsA = await runsOf(app, fa.tenant.id, autoA.id);
    const [runB] = await runsOf(app, fb.tenant.id, autoB.id);
    expect(runsA.filter((r) => r.status === 'running')).toHaveLength(N);
    expect(runB!.started_at).not.toBeNull();
    expect(runsA[N]!.started_at).toBeNull();

    // A's first run ends: its slot goes to A's next queued run, after B's.
    await withTenant(app, fa.tenant.id, (m) => m.query("UPDATE automation_runs SET status = 'completed', ended_at = now() WHERE id = $1", [runsA[0]!.id]));
    await dispatchAutomationEvents(deps());
    const next = (await runsOf(app, fa.tenant.id, autoA.id))[N]!;
    expect(next.status).toBe('running');
    expect(next.started_at!.getTime()).toBeGreaterThan(runB!.started_at!.getTime());
    expect((await runsOf(app, fa.tenant.id, autoA.id)).filter((r) => r.status === 'running')).toHaveLength(N);
  });
});

describe('the actions limit', () => {
  it('holds across two processes: no 60 s window counts more than 60 actions', async () => {
    const tenantId = a.tenant.id;
    const granted: number[] = [];
    let refused = 0;
    const worker = async (ds: DataSource) => {
      for (let i = 0; i < 50; i++) {
        const r = await takeAutomationActions(ds, tenantId, 60);
        if (r.allowed) granted.push(Date.now());
        else {
          refused++;
          expect(r.retryAfterMs).toBeGreaterThan(0);
        }
      }
    };
    // Two connection pools, as two worker processes have: the count is PostgreSQL's, not either's.
    await Promise.all([worker(app), worker(app2), worker(app), worker(app2)]);
    expect(granted).toHaveLength(60);
    expect(refused).toBe(140);
    granted.sort((x, y) => x - y);
    for (let i = 0; i < granted.length; i++) expect(granted.filter((t) => t >= granted[i]! && t < granted[i]! + 60_000).length).toBeLessThanOrEqual(60);
  });
});

describe('schedules', () => {
  it('follows the cron in the tenant’s zone across DST, ticks into one run, and goes with the automation', async () => {
    const zone = 'America/New_York';
    await owner.query("UPDATE tenants SET settings = coalesce(settings, '{}'::jsonb) || jsonb_build_object('timezone', $2::text) WHERE id = $1", [
      b.tenant.id,
      zone,
    ]);
    const automation = await insertAutomation(app, b.tenant.id, keyring, {
      definitions: [{ trigger: { type: 'schedule', cron: '0 9 1 * *' }, steps: [] }],
    });
    const scheduleTaskQueue = uniqueTaskQueue('schedule');
    const schedDeps = { ...deps(), taskQueue: scheduleTaskQueue };
    await afterAutomationChange(schedDeps, b.tenant.id, automation.id);
    const handle = client.schedule.getHandle(automationScheduleId({ tenantId: b.tenant.id, automationId: automation.id }));
    try {
      const times = (await handle.describe()).info.nextActionTimes;
      expect(times.length).toBeGreaterThanOrEqual(10);
      const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      // 09:00 on the 1st in New York every time: 14:00 UTC in winter, 13:00 UTC in summer — ten months always cross a change.
      for (const t of times) expect(local.format(t)).toBe('01, 09:00');
      expect(new Set(times.map((t) => t.getUTCHours()))).toEqual(new Set([13, 14]));

      // One real tick (the cron's next is weeks away: trigger it now), run by the project's worker.
      await withProjectWorker({ dataSource: app, taskQueue: scheduleTaskQueue }, async () => {
        await handle.trigger();
        await until('the tick records a run', async () => ((await runsOf(app, b.tenant.id, automation.id)).length > 0 ? true : undefined));
      });
      const runs = await runsOf(app, b.tenant.id, automation.id);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.dedupe_key).toMatch(/^schedule:/);
      expect(runs[0]!.trigger.type).toBe('schedule');
    } finally {
      await withTenant(app, b.tenant.id, (m) => m.query('DELETE FROM automations WHERE id = $1', [automation.id]));
      // As the API's delete does: its versions are gone, so it says the automation had a schedule.
      await afterAutomationChange(schedDeps, b.tenant.id, automation.id, true);
    }
    await expect(handle.describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });
});

describe('the worker’s dispatcher', () => {
  it('dispatches on its timer without a caller, and stops', async () => {
    const t = await createTenant(app, { customers: 1 });
    const automation = await insertAutomation(app, t.tenant.id, keyring, { definitions: [leadCreated()] });
    await afterAutomationChange(deps(), t.tenant.id, automation.id);
    const warnings: unknown[] = [];
    const dispatcher = startAutomationDispatcher(deps(), { info: () => undefined, warn: (o: unknown) => warnings.push(o) } as never, { intervalMs: 50 });
    try {
      const lead = await newLeadEvent(t, t.customers[0]!.id);
      const [run] = await until('the timer dispatches the event', async () => {
        const runs = await runsOf(app, t.tenant.id, automation.id);
        return runs[0]?.status === 'running' ? runs : undefined;
      });
      expect(run!.lead_id).toBe(lead);
    } finally {
      await dispatcher.stop();
    }
    expect(warnings).toEqual([]);
  });
});
