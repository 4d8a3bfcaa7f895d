// 2. Campaign start at scale: the request returns at once and the fan-out
// workflow starts every enrollment workflow; against starting as many trivial
// workflows from one client. Pause, resume and archive of the same campaign
// are measured the same way. 6. Worker memory: with the campaign's
// enrollments open and waiting on their next step's timer.
import { BenchApi, campaignWithSequence, sinkInbox } from '../lib/api';
import { rssMiB } from '../lib/load';
import { until as waitFor } from '../../lib/until';
import { createBenchTenant, enrollLeads, generateLeads, inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type ResultRow, type Scenario } from '../lib/types';
import { campaignFanoutWorkflowId } from '../../workflows/ids';
import { baselineRun } from './sends';

export const campaignStart: Scenario = {
  name: 'campaign',
  title: 'Campaign start, pause, resume and archive at scale',
  async run(ctx: BenchContext) {
    const { stack } = ctx;
    const n = ctx.sizes.campaign;
    const t = await createBenchTenant(stack.ownerDs, 'campaign');
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);
    const customer = t.customers[0]!;
    const inbox = await sinkInbox(api, customer, stack.sinkPort);
    await generateLeads(stack.owner, t, customer, n, 'scale');
    const actions = ['active', 'paused', 'active', 'archived'] as const;
    const labels = ['start', 'pause', 'resume', 'archive'];
    const request: number[][] = actions.map(() => []);
    const rate: number[][] = actions.map(() => []);
    const base: number[] = [];
    const workerRss: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      const campaign = await campaignWithSequence(api, customer, inbox, `Scale ${rep + 1}`, [{ subject: 'Later', body: 'Later', delayHours: 24 }]);
      await enrollLeads(stack.owner, t, customer, campaign, n);
      const fanout = stack.client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId: t.tenantId, campaignId: campaign }));
      for (const [i, status] of actions.entries()) {
        const t0 = Date.now();
        await api.call('POST', `/api/campaigns/${campaign}/status`, customer, { status });
        request[i]!.push(Date.now() - t0);
        await fanout.result();
        const closed = (await fanout.describe()).closeTime!.getTime();
        rate[i]!.push(n / ((closed - t0) / 1000));
        if (i === 0) {
          // Every enrollment has run its first steps and sleeps until tomorrow.
          await waitFor(
            'enrollments waiting on timers',
            async () =>
              (
                await inTenant(stack.owner, t.tenantId, (c) =>
                  c.query("SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND status = 'active' AND next_send_at IS NOT NULL", [campaign]),
                )
              ).rows[0].n >= n,
            30 * 60_000,
            250,
          );
          workerRss.push(await rssMiB(stack.pid('worker')));
        }
        ctx.log(`campaign: rep ${rep + 1}: ${labels[i]} ${rate[i]!.at(-1)!.toFixed(0)} enrollments/s, request ${request[i]!.at(-1)} ms`);
      }
      const b = await baselineRun(ctx, 'benchTrivial', n, `trivial-${rep}`, 'started');
      base.push(b.perSecond);
      ctx.log(`campaign: rep ${rep + 1}: baseline ${b.perSecond.toFixed(0)} trivial workflows/s`);
    }
    const rows: ResultRow[] = [];
    for (const [i, label] of labels.entries()) {
      const r = i === 0 ? ratios(rate[i]!, base) : undefined;
      rows.push({
        metric: `${label}: enrollments/s (request to the fan-out's end)`,
        unit: '/s',
        ours: figure(rate[i]!),
        ...(i === 0
          ? { baseline: { label: 'trivial workflow starts accepted/s, 32 in flight', value: figure(base) }, ratio: r, goal: '≥ 0.8×', met: r!.median >= 0.8 }
          : {}),
      });
      rows.push({ metric: `${label}: the API request`, unit: 'ms', ours: figure(request[i]!), goal: '< 1000 ms', met: figure(request[i]!).median < 1000 });
    }
    rows.push({
      metric: `worker RSS, ${n} enrollments waiting on timers`,
      unit: 'MiB',
      ours: figure(workerRss),
      goal: '< 1024 MiB',
      met: figure(workerRss).max < 1024,
    });
    return { name: 'campaign', title: this.title, sizes: { enrollments: n }, rows, latencies: [], notes: [] };
  },
};
