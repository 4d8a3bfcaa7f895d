// 9. Automation runs: runs/s from trigger to `completed` for an automation of
// three local steps (add_tag → set_stage → remove_tag on the run's lead), each
// run a queued row admitted by the tenant's concurrency limit and run by the
// automationRun workflow on the product's worker — against a bare workflow
// with as many activities as one run's history holds, on the same server and
// worker settings. Then the same runs under the default concurrency limit
// (20 running): the limit's overhead is that rate against the unbounded one.
// The actions limiter is on in both (its limit set out of reach), so its cost
// is in both figures.
import { eachLimited } from '../../lib/eachLimited';
import { until as waitFor } from '../../lib/until';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { admitQueuedRuns, type AutomationDeps, enqueueRun } from '../../services/automations/queue';
import { automationRunWorkflowId } from '../../workflows/automationRun.contract';
import { createBenchTenant, generateLeads, inTenant } from '../lib/seed';
import { figure, percentile, ratios } from '../lib/stats';
import { type BenchContext, type ResultRow, type Scenario } from '../lib/types';
import { executions } from './sends';

/** The default of `tenants.automation_max_running`. */
const DEFAULT_MAX_RUNNING = 20;

const DEFINITION = {
  trigger: { type: 'manual' },
  steps: [
    { type: 'add_tag', tag: 'bench' },
    { type: 'set_stage', stage: 'interested' },
    { type: 'remove_tag', tag: 'bench' },
  ],
};

interface Batch {
  perSecond: number;
  /** Each run's trigger (queued) to its end, ms. */
  latencies: number[];
  runIds: string[];
}

/** Triggers one run per lead (queued rows in one transaction), admits them under `maxRunning`, and waits until every one has completed. */
async function runBatch(ctx: BenchContext, deps: AutomationDeps, tenantId: string, automationId: string, leads: string[], maxRunning: number): Promise<Batch> {
  const { stack } = ctx;
  // The tenant's own limit is the one admission applies as runs end.
  await inTenant(stack.owner, tenantId, (c) => c.query('UPDATE tenants SET automation_max_running = $2 WHERE id = $1', [tenantId, maxRunning]));
  const t0 = Date.now();
  const runIds = await withTenant(stack.ownerDs, tenantId, async (m) => {
    const ids: string[] = [];
    for (const leadId of leads) {
      const run = await enqueueRun(m, {
        id: newId('arun'),
        automationId,
        version: 1,
        customerId: null,
        leadId,
        trigger: { type: 'manual', payload: {} },
        dedupeKey: null,
      });
      ids.push(run.id);
    }
    return ids;
  });
  // The first admission is the trigger's; the rest are admitted as runs end.
  await admitQueuedRuns(deps, tenantId, maxRunning);
  await waitFor(
    `${runIds.length} automation runs completed (limit ${maxRunning})`,
    async () => {
      const { rows } = await inTenant(stack.owner, tenantId, (c) =>
        c.query(
          `SELECT count(*) FILTER (WHERE status = 'completed')::int AS done, count(*) FILTER (WHERE status IN ('failed', 'canceled'))::int AS bad
             FROM automation_runs WHERE id = ANY($1::text[])`,
          [runIds],
        ),
      );
      const { done, bad } = rows[0] as { done: number; bad: number };
      if (bad > 0) throw new Error(`${bad} of the benchmark's automation runs failed or were canceled: see automation_runs.error`);
      return done === runIds.length;
    },
    30 * 60_000,
    250,
  );
  const { rows } = await inTenant(stack.owner, tenantId, (c) =>
    c.query(
      `SELECT (extract(epoch FROM ended_at - queued_at) * 1000)::float8 AS ms, (extract(epoch FROM ended_at) * 1000)::float8 AS end_ms
         FROM automation_runs WHERE id = ANY($1::text[])`,
      [runIds],
    ),
  );
  const runs = rows as { ms: number; end_ms: number }[];
  const last = Math.max(...runs.map((r) => r.end_ms));
  return { perSecond: runIds.length / ((last - t0) / 1000), latencies: runs.map((r) => r.ms), runIds };
}

/** How many activities (and local activities) one completed run's history scheduled. */
async function activitiesOfRun(ctx: BenchContext, tenantId: string, automationId: string, runId: string): Promise<number> {
  const history = await ctx.stack.client.workflow.getHandle(automationRunWorkflowId({ tenantId, automationId, runId })).fetchHistory();
  return (history.events ?? []).filter(
    (e) => e.activityTaskScheduledEventAttributes || (e.markerRecordedEventAttributes && e.markerRecordedEventAttributes.markerName === 'core_local_activity'),
  ).length;
}

/** `n` bare workflows of `activities` no-op activities each, 32 starts in flight; the rate to the last close. */
async function baselineBatch(ctx: BenchContext, n: number, activities: number, label: string): Promise<{ perSecond: number; latencies: number[] }> {
  const t0 = Date.now();
  const since = new Date(t0 - 1000).toISOString();
  await eachLimited(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      await ctx.stack.client.workflow.start('benchActivities', {
        workflowId: `bench/${label}/${t0}/${i}`,
        taskQueue: ctx.stack.baselineTaskQueue,
        args: [activities],
      });
    },
  );
  const query = `WorkflowType = 'benchActivities' AND StartTime >= '${since}'`;
  await waitFor(
    `${n} benchActivities closed`,
    async () => (await ctx.stack.client.workflow.count(`${query} AND ExecutionStatus = 'Completed'`)).count >= n,
    30 * 60_000,
    250,
  );
  const runs = [...(await executions(ctx, query)).values()];
  const last = Math.max(...runs.map((r) => r.close ?? 0));
  return { perSecond: n / ((last - t0) / 1000), latencies: runs.map((r) => r.close! - r.start) };
}

export const automations: Scenario = {
  name: 'automations',
  title: 'Automation runs (three local steps) vs a bare workflow of as many activities; the per-tenant limit',
  async run(ctx: BenchContext) {
    const { stack } = ctx;
    const n = ctx.sizes.automationRuns;
    const t = await createBenchTenant(stack.ownerDs, 'automations');
    const customer = t.customers[0]!;
    // Two batches per repetition, each on leads of its own (the loop guard counts triggers per lead).
    await generateLeads(stack.owner, t, customer, 2 * n * ctx.reps, 'auto');
    const automationId = newId('auto');
    const leads = await inTenant(stack.owner, t.tenantId, async (c) => {
      // Only the concurrency under test holds runs back: the actions limiter and the loop guard are set out of reach.
      await c.query('UPDATE tenants SET automation_actions_per_minute = 100000, automation_loop_limit = 1000, automations_live = true WHERE id = $1', [
        t.tenantId,
      ]);
      // The secret signs webhook calls, which this automation has none of.
      await c.query(
        `INSERT INTO automations (tenant_id, id, name, enabled, webhook_secret) VALUES ($1, $2, 'Bench: tag, stage, untag', true, '{"keyId":"bench","ciphertext":"unused"}'::jsonb)`,
        [t.tenantId, automationId],
      );
      await c.query('INSERT INTO automation_versions (tenant_id, automation_id, version, definition, published_at) VALUES ($1, $2, 1, $3::jsonb, now())', [
        t.tenantId,
        automationId,
        JSON.stringify(DEFINITION),
      ]);
      await c.query('UPDATE automations SET live_version = 1 WHERE id = $1', [automationId]);
      return ((await c.query('SELECT id FROM leads WHERE customer_id = $1 ORDER BY id', [customer])).rows as { id: string }[]).map((r) => r.id);
    });
    const deps: AutomationDeps = { dataSource: stack.ownerDs, client: stack.client, taskQueue: stack.taskQueue };

    const unbounded: number[] = [];
    const limited: number[] = [];
    const base: number[] = [];
    const latency = { unbounded: [] as number[][], limited: [] as number[][], base: [] as number[][] };
    let activities = 0;
    for (let rep = 0; rep < ctx.reps; rep++) {
      const slice = (k: number) => leads.slice((2 * rep + k) * n, (2 * rep + k + 1) * n);
      await stack.settle();
      const a = await runBatch(ctx, deps, t.tenantId, automationId, slice(0), n);
      unbounded.push(a.perSecond);
      latency.unbounded.push(a.latencies);
      if (rep === 0) activities = await activitiesOfRun(ctx, t.tenantId, automationId, a.runIds[0]!);
      ctx.log(`automations: rep ${rep + 1}: ${a.perSecond.toFixed(1)} runs/s unbounded (${activities} activities a run)`);

      await stack.settle();
      const b = await baselineBatch(ctx, n, activities, `automations-${rep}`);
      base.push(b.perSecond);
      latency.base.push(b.latencies);
      ctx.log(`automations: rep ${rep + 1}: baseline ${b.perSecond.toFixed(1)} bare workflows/s`);

      await stack.settle();
      const c = await runBatch(ctx, deps, t.tenantId, automationId, slice(1), DEFAULT_MAX_RUNNING);
      limited.push(c.perSecond);
      latency.limited.push(c.latencies);
      ctx.log(`automations: rep ${rep + 1}: ${c.perSecond.toFixed(1)} runs/s at ${DEFAULT_MAX_RUNNING} running`);
    }

    const vsBare = ratios(unbounded, base);
    const underLimit = ratios(limited, unbounded);
    const rows: ResultRow[] = [
      {
        metric: `automation runs/s, trigger → completed (${n} runs of add_tag → set_stage → remove_tag, concurrency unbounded)`,
        unit: 'runs/s',
        ours: figure(unbounded),
        baseline: { label: `bare workflow of ${activities} no-op activities, 32 starts in flight`, value: figure(base) },
        ratio: vsBare,
      },
      {
        metric: `automation runs/s at the default limit (${DEFAULT_MAX_RUNNING} running, admitted as runs end)`,
        unit: 'runs/s',
        ours: figure(limited),
        baseline: { label: 'the same runs, concurrency unbounded', value: figure(unbounded) },
        ratio: underLimit,
      },
    ];
    // Percentiles of each repetition's runs, summarised over the repetitions.
    const p = (runs: number[][], q: number) => figure(runs.map((r) => percentile(r, q)));
    const row = (label: string, runs: number[][]) => ({ label, p50: p(runs, 50), p99: p(runs, 99) });
    return {
      name: 'automations',
      title: this.title,
      sizes: { runs: n, 'activities a run': activities },
      rows,
      latencies: [
        row('automation run, trigger → completed (unbounded)', latency.unbounded),
        row(`automation run, trigger → completed (${DEFAULT_MAX_RUNNING} running)`, latency.limited),
        row('bare workflow, start → close', latency.base),
      ],
      notes: [
        `A run's history held ${activities} activities (its steps, reading the run, the actions limiter, recording each step, admission); the baseline runs as many no-op activities.`,
        `At ${DEFAULT_MAX_RUNNING} running, the limit's overhead is the second row's ratio: a run waits queued until one ends and admits it.`,
      ],
    };
  },
};
