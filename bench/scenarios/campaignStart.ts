// 2. Campaign start at scale: the request returns at once and the fan-out
// workflow starts every enrollment workflow; against starting as many trivial
// workflows from one client. Pause, resume and archive of the same campaign
// are measured the same way. 6. Worker memory: with the campaign's
// enrollments open and waiting for their first step (their starts delayed
// until it is due, so none of them is in the worker until then).
import { BenchApi, campaignWithSequence, sinkInbox } from '../lib/api';
import { cpuShare, formatCpu, rssMiB } from '../lib/load';
import { until as waitFor } from '../../lib/until';
import { createBenchTenant, enrollLeads, generateLeads, inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type ResultRow, type Scenario } from '../lib/types';
import { campaignFanoutWorkflowId } from '../../workflows/ids';
import { baselineRun } from './sends';

/** One figure set per repetition: "1: a 1.0, b 2.0; 2: …". */
const byRep = (reps: Record<string, number>[]) => reps.map((r, i) => `${i + 1}: ${formatCpu(r)}`).join('; ');

export const campaignStart: Scenario = {
  name: 'campaign',
  title: 'Campaign start, pause, resume and archive at scale',
  async run(ctx: BenchContext) {
    const { stack } = ctx;
    const n = ctx.sizes.campaign;
    const m = ctx.sizes.campaignActions;
    const t = await createBenchTenant(stack.ownerDs, 'campaign');
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);
    const customer = t.customers[0]!;
    const inbox = await sinkInbox(api, customer, stack.sinkPort);
    await generateLeads(stack.owner, t, customer, Math.max(n, m), 'scale');
    const labels = ['start', 'pause', 'resume', 'archive'];
    const request: number[][] = labels.map(() => []);
    const rate: number[][] = labels.map(() => []);
    const base: number[] = [];
    const workerRss: number[] = [];
    // Where the start's time goes, each repetition: each process's share of a
    // core while the fan-out or the baseline's starts ran (and the whole
    // machine's), and CPU per unit.
    const cpu: Record<'fanning' | 'perEnrollment' | 'starting' | 'perTrivial', Record<string, number>[]> = {
      fanning: [],
      perEnrollment: [],
      starting: [],
      perTrivial: [],
    };

    /** A campaign of `size` enrollments that sends its one step tomorrow. */
    const campaignOf = async (name: string, size: number) => {
      const campaign = await campaignWithSequence(api, customer, inbox, name, [{ subject: 'Later', body: 'Later', delayHours: 24 }]);
      await enrollLeads(stack.owner, t, customer, campaign, size);
      return campaign;
    };
    /** One status change: the request's time, enrollments/s from the request to the fan-out's end, and each process's share of a core meanwhile. */
    const act = async (campaign: string, size: number, status: 'active' | 'paused' | 'archived', before = stack.cpu()) => {
      const fanout = stack.client.workflow.getHandle(campaignFanoutWorkflowId({ tenantId: t.tenantId, campaignId: campaign }));
      const t0 = Date.now();
      await api.call('POST', `/api/campaigns/${campaign}/status`, customer, { status });
      const ms = Date.now() - t0;
      await fanout.result();
      const closed = (await fanout.describe()).closeTime!.getTime();
      return { ms, perSecond: size / ((closed - t0) / 1000), busy: cpuShare(before, stack.cpu(), Date.now() - t0) };
    };
    const note = (i: number) => ctx.log(`campaign: ${labels[i]} ${rate[i]!.at(-1)!.toFixed(0)} enrollments/s, request ${request[i]!.at(-1)} ms`);

    for (let rep = 0; rep < ctx.reps; rep++) {
      // The start at scale, against as many trivial starts. Its enrollments
      // stay open, waiting for tomorrow, for the rest of the run (the stack is
      // thrown away at the end): archiving them would cost more than the
      // start and measure nothing new.
      const big = await campaignOf(`Scale ${rep + 1}`, n);
      const whole = stack.cpu();
      const started = await act(big, n, 'active', whole);
      request[0]!.push(started.ms);
      rate[0]!.push(started.perSecond);
      note(0);
      cpu.fanning.push(started.busy);
      // Every enrollment has moved (its batch recorded tomorrow's send and
      // started it delayed until then); the CPU is read once the server has
      // nothing left to do.
      await waitFor(
        'enrollments waiting for tomorrow',
        async () =>
          (
            await inTenant(stack.owner, t.tenantId, (c) =>
              c.query("SELECT count(*)::int AS n FROM enrollments WHERE campaign_id = $1 AND status = 'active' AND next_send_at IS NOT NULL", [big]),
            )
          ).rows[0].n >= n,
        30 * 60_000,
        250,
      );
      cpu.perEnrollment.push(await stack.cpuSince(whole, n, 10 * 60_000));
      workerRss.push(await rssMiB(stack.pid('worker')));
      ctx.log(`campaign: rep ${rep + 1}: worker RSS ${workerRss.at(-1)!.toFixed(0)} MiB with ${(rep + 1) * n} enrollments waiting`);
      const beforeBase = stack.cpu();
      const b = await baselineRun(ctx, 'benchTrivial', n, `trivial-${rep}`, 'started');
      cpu.perTrivial.push(await stack.cpuSince(beforeBase, n));
      cpu.starting.push(b.busy);
      base.push(b.perSecond);
      ctx.log(`campaign: rep ${rep + 1}: baseline ${b.perSecond.toFixed(0)} trivial workflows/s`);

      // Pause, resume and archive wake every enrollment: timed on a campaign
      // of their own size, started first.
      const small = await campaignOf(`Actions ${rep + 1}`, m);
      await act(small, m, 'active');
      for (const [i, status] of (['paused', 'active', 'archived'] as const).entries()) {
        const r = await act(small, m, status);
        request[i + 1]!.push(r.ms);
        rate[i + 1]!.push(r.perSecond);
        note(i + 1);
      }
    }
    const rows: ResultRow[] = [];
    for (const [i, label] of labels.entries()) {
      const r = i === 0 ? ratios(rate[i]!, base) : undefined;
      rows.push({
        metric: `${label}: enrollments/s (request to the fan-out's end), ${i === 0 ? n : m} enrollments`,
        unit: '/s',
        ours: figure(rate[i]!),
        ...(i === 0
          ? { baseline: { label: 'trivial workflow starts accepted/s, 32 in flight', value: figure(base) }, ratio: r, goal: '≥ 0.8×', met: r!.median >= 0.8 }
          : {}),
      });
      rows.push({ metric: `${label}: the API request`, unit: 'ms', ours: figure(request[i]!), goal: '< 1000 ms', met: figure(request[i]!).max < 1000 });
    }
    rows.push({
      metric: `worker RSS, ${n}–${n * ctx.reps} enrollments waiting for their first step`,
      unit: 'MiB',
      ours: figure(workerRss),
      goal: '< 1024 MiB',
      met: figure(workerRss).max < 1024,
    });
    return {
      name: 'campaign',
      title: this.title,
      sizes: { enrollments: n, 'paused, resumed and archived': m },
      rows,
      latencies: [],
      notes: [
        `Each repetition starts another campaign of ${n} and leaves its enrollments waiting, so the worker's RSS is read with ${n}, ${2 * n}, … enrollments open.`,
        `% of a core while the fan-out ran, by repetition (machine: every process): ${byRep(cpu.fanning)}`,
        `CPU ms per enrollment, from the request until it waits for its first step, by repetition: ${byRep(cpu.perEnrollment)}`,
        `% of a core while the baseline's starts ran, by repetition: ${byRep(cpu.starting)}`,
        `CPU ms per trivial workflow, started and closed, by repetition: ${byRep(cpu.perTrivial)}`,
      ],
    };
  },
};
