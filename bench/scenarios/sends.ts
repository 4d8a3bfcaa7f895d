// 1. Sends: a campaign's first step to N leads through enrollLead and the real
// SMTP conversation with the local sink, against a workflow with one no-op
// activity on the same server and worker settings; and the same send job on
// pg-boss, the PostgreSQL job queue a user might pick instead.
import PgBoss from 'pg-boss';
import { smtpProvider } from '../../activities/providers/mail';
import { parseOutboundAllowlist } from '../../lib/outbound';
import { renderTemplate } from '../../lib/templates';
import { BenchApi, campaignWithSequence, sinkInbox } from '../lib/api';
import { eachLimited } from '../../lib/eachLimited';
import { until as waitFor } from '../../lib/until';
import { cpuShare, formatCpu } from '../lib/load';
import { createBenchTenant, inTenant } from '../lib/seed';
import { figure, percentile, ratios } from '../lib/stats';
import { type BenchContext, type Scenario } from '../lib/types';

export const STEPS = [
  { subject: 'Hello {{firstName}}', body: 'Hi {{firstName}}, a note for {{company}}.', delayHours: 0 },
  // The second step waits a day: the enrollments stay open for the webhook scenario's replies.
  { subject: 'Following up', body: 'Just checking in.', delayHours: 24 },
];

/** Workflows' start and close instants from the server's visibility store. */
export async function executions(ctx: BenchContext, query: string): Promise<Map<string, { start: number; close: number | null }>> {
  const out = new Map<string, { start: number; close: number | null }>();
  for await (const w of ctx.stack.client.workflow.list({ query })) {
    out.set(w.workflowId, { start: w.startTime.getTime(), close: w.closeTime?.getTime() ?? null });
  }
  return out;
}

/**
 * Starts n workflows of a baseline type from one client (32 calls in flight, as
 * the fan-out does); the rate is to the last start the server accepted, or to
 * the last close.
 */
export async function baselineRun(
  ctx: BenchContext,
  type: string,
  n: number,
  label: string,
  until: 'started' | 'closed' = 'closed',
): Promise<{ perSecond: number; latencies: number[]; busy: Record<string, number> }> {
  const before = ctx.stack.cpu();
  const t0 = Date.now();
  const since = new Date(t0 - 1000).toISOString();
  await eachLimited(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      await ctx.stack.client.workflow.start(type, { workflowId: `bench/${label}/${t0}/${i}`, taskQueue: ctx.stack.baselineTaskQueue });
    },
  );
  const accepted = Date.now();
  const busy = cpuShare(before, ctx.stack.cpu(), accepted - t0);
  const query = `WorkflowType = '${type}' AND StartTime >= '${since}'`;
  await waitFor(
    `${n} ${type} closed`,
    async () => (await ctx.stack.client.workflow.count(`${query} AND ExecutionStatus = 'Completed'`)).count >= n,
    30 * 60_000,
    250,
  );
  const runs = [...(await executions(ctx, query)).values()];
  const last = Math.max(...runs.map((r) => r.close ?? 0));
  return { perSecond: n / (((until === 'started' ? accepted : last) - t0) / 1000), latencies: runs.map((r) => r.close! - r.start), busy };
}

/** The sends' pace while the campaign's fan-out was starting enrollments, and after it ended (`total` accepted, the last at `last`). */
async function fanoutPhases(ctx: BenchContext, tenantId: string, campaign: string, t0: number, total: number, last: number): Promise<string> {
  const fanout = [
    ...(await executions(ctx, `WorkflowType = 'campaignFanout' AND TenantId = '${tenantId}' AND StartTime >= '${new Date(t0 - 1000).toISOString()}'`)).values(),
  ];
  const end = Math.max(...fanout.map((f) => f.close ?? 0));
  const [{ during }] = (
    await inTenant(ctx.stack.owner, tenantId, (c) =>
      c.query("SELECT count(*)::int AS during FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted' AND updated_at <= $2", [
        campaign,
        new Date(end),
      ]),
    )
  ).rows as [{ during: number }];
  const rate = (k: number, ms: number) => (ms > 0 ? (k / (ms / 1000)).toFixed(0) : '–');
  return `${rate(during, end - t0)} for ${((end - t0) / 1000).toFixed(1)} s, then ${rate(total - during, last - end)}`;
}

async function peerRun(ctx: BenchContext, boss: PgBoss, queue: string, t: { tenantId: string }, leads: { id: string }[], inbox: { port: number }) {
  const policy = parseOutboundAllowlist(`127.0.0.1:${inbox.port}`);
  const provider = smtpProvider({ host: '127.0.0.1', port: inbox.port, secure: false }, { ...policy });
  await boss.createQueue(queue);
  let done = 0;
  const t0 = Date.now();
  const handler = async (jobs: PgBoss.Job<{ tenantId: string; leadId: string }>[]) => {
    for (const job of jobs) {
      // Load, render, record before sending, send, record the acceptance: the product's send, as jobs.
      const { lead, step } = await inTenant(ctx.stack.app, job.data.tenantId, async (c) => {
        const l = (await c.query('SELECT email, first_name, company FROM leads WHERE id = $1', [job.data.leadId])).rows[0] as Record<string, string>;
        await c.query("INSERT INTO bench_peer_sends (tenant_id, lead_id, status) VALUES ($1, $2, 'sending') ON CONFLICT DO NOTHING", [
          job.data.tenantId,
          job.data.leadId,
        ]);
        return { lead: l, step: STEPS[0]! };
      });
      const values = { firstName: lead.first_name, company: lead.company };
      const subject = renderTemplate(step.subject, values);
      const body = renderTemplate(step.body, values);
      await provider.send({
        messageId: `<peer.${job.id}@bench.example>`,
        idempotencyKey: job.id,
        from: { email: 'peer@agency.example', name: 'Peer' },
        to: lead.email!,
        subject: subject.ok ? subject.text : '',
        text: body.ok ? body.text : '',
        headers: {},
      });
      await inTenant(ctx.stack.app, job.data.tenantId, (c) =>
        c.query("UPDATE bench_peer_sends SET status = 'accepted', sent_at = now() WHERE lead_id = $1", [job.data.leadId]),
      );
      done += 1;
    }
  };
  const workers = await Promise.all(Array.from({ length: 8 }, () => boss.work(queue, { batchSize: 4, pollingIntervalSeconds: 0.5 }, handler)));
  await boss.insert(leads.map((l) => ({ name: queue, data: { tenantId: t.tenantId, leadId: l.id } })));
  await waitFor(`${leads.length} peer sends`, async () => done >= leads.length, 30 * 60_000, 50);
  const perSecond = leads.length / ((Date.now() - t0) / 1000);
  for (const w of workers) await boss.offWork(w).catch(() => undefined);
  return perSecond;
}

export const sends: Scenario = {
  name: 'sends',
  title: 'Sends through enrollLead to the local SMTP sink',
  async run(ctx) {
    const { stack, sizes } = ctx;
    const n = sizes.sends;
    const t = await createBenchTenant(stack.ownerDs, 'sends');
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);
    const customer = t.customers[0]!;
    const inbox = await sinkInbox(api, customer, stack.sinkPort);
    // The peer's own table, under the same row-level security as ours.
    await stack.owner
      .query(`CREATE TABLE IF NOT EXISTS bench_peer_sends (tenant_id uuid NOT NULL, lead_id text NOT NULL, status text NOT NULL, sent_at timestamptz,
      PRIMARY KEY (tenant_id, lead_id))`);
    await stack.owner.query('ALTER TABLE bench_peer_sends ENABLE ROW LEVEL SECURITY; ALTER TABLE bench_peer_sends FORCE ROW LEVEL SECURITY');
    await stack.owner.query(
      "DO $$ BEGIN CREATE POLICY bench_peer_tenant ON bench_peer_sends USING (tenant_id = current_setting('app.tenant_id', true)::uuid); EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    );
    const appRole = (await stack.app.query('SELECT current_user AS u')).rows[0].u as string;
    await stack.owner.query(`GRANT SELECT, INSERT, UPDATE ON bench_peer_sends TO ${appRole}`);
    const boss = new PgBoss({ connectionString: stack.platform.databaseUrl, schema: 'bench_pgboss', max: 10 });
    boss.on('error', (err) => ctx.log(`pg-boss: ${String(err)}`));
    await boss.start();

    const ours: number[] = [];
    const base: number[] = [];
    const peer: number[] = [];
    const oursLatency: number[][] = [];
    const baseLatency: number[][] = [];
    const requestMs: number[] = [];
    const phases: string[] = [];
    const open: { tenantId: string; campaigns: string[] } = { tenantId: t.tenantId, campaigns: [] };
    const cpu = { ours: {} as Record<string, number>, base: {} as Record<string, number> };
    for (let rep = 0; rep < ctx.reps; rep++) {
      const campaign = await campaignWithSequence(api, customer, inbox, `Sends ${rep + 1}`, STEPS);
      const leads = Array.from({ length: n }, (_, i) => ({ email: `send-${rep}-${i}@lead${i % 97}.example`, firstName: `Lead${i}`, company: `Co ${i % 50}` }));
      for (let i = 0; i < leads.length; i += 500) {
        await api.call('POST', `/api/campaigns/${campaign}/leads`, customer, { leads: leads.slice(i, i + 500) }); // under the body limit
      }
      await stack.settle();
      let before = stack.cpu();
      const t0 = Date.now();
      await api.call('POST', `/api/campaigns/${campaign}/status`, customer, { status: 'active' });
      requestMs.push(Date.now() - t0);
      const accepted = async () =>
        (
          await inTenant(stack.owner, t.tenantId, (c) =>
            c.query(
              "SELECT count(*)::int AS n, (extract(epoch FROM max(updated_at)) * 1000)::float8 AS last FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted'",
              [campaign],
            ),
          )
        ).rows[0] as { n: number; last: number };
      const done = await waitFor(`${n} sends accepted`, async () => ((await accepted()).n >= n ? accepted() : undefined), 30 * 60_000, 200);
      ours.push(n / ((done.last - t0) / 1000));
      phases.push(await fanoutPhases(ctx, t.tenantId, campaign, t0, done.n, done.last));
      cpu.ours = await stack.cpuSince(before, n);
      const started = await executions(
        ctx,
        `WorkflowType = 'enrollLead' AND TenantId = '${t.tenantId}' AND StartTime >= '${new Date(t0 - 1000).toISOString()}'`,
      );
      const sentAt = (
        await inTenant(stack.owner, t.tenantId, (c) =>
          c.query(
            "SELECT e.lead_id, (extract(epoch FROM m.updated_at) * 1000)::float8 AS at FROM messages m JOIN enrollments e ON e.id = m.enrollment_id WHERE m.campaign_id = $1 AND m.direction = 'outbound'",
            [campaign],
          ),
        )
      ).rows as { lead_id: string; at: number }[];
      const byLead = new Map([...started].map(([id, e]) => [id.split('/lead/')[1]!, e.start]));
      oursLatency.push(sentAt.filter((s) => byLead.has(s.lead_id)).map((s) => s.at - byLead.get(s.lead_id)!));
      open.campaigns.push(campaign);
      ctx.log(`sends: rep ${rep + 1}: ${ours.at(-1)!.toFixed(1)} sends/s`);

      before = stack.cpu();
      const b = await baselineRun(ctx, 'benchOneActivity', n, `one-activity-${rep}`);
      cpu.base = await stack.cpuSince(before, n);
      base.push(b.perSecond);
      baseLatency.push(b.latencies);
      ctx.log(`sends: rep ${rep + 1}: baseline ${b.perSecond.toFixed(1)} workflows/s`);

      const peerLeads = (
        await inTenant(stack.owner, t.tenantId, (c) =>
          c.query('SELECT l.id FROM leads l JOIN enrollments e ON e.lead_id = l.id WHERE e.campaign_id = $1', [campaign]),
        )
      ).rows as { id: string }[];
      await stack.owner.query('TRUNCATE bench_peer_sends');
      peer.push(await peerRun(ctx, boss, `bench-send-${rep}`, t, peerLeads, { port: stack.sinkPort }));
      ctx.log(`sends: rep ${rep + 1}: pg-boss ${peer.at(-1)!.toFixed(1)} sends/s`);
    }
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    ctx.shared.set('sends.open', open);
    const p = (runs: number[][], q: number) => figure(runs.map((r) => percentile(r, q)));
    const ratio = ratios(ours, base);
    return {
      name: 'sends',
      title: this.title,
      sizes: { leads: n },
      rows: [
        {
          metric: 'sends/s (start to last accepted message)',
          unit: '/s',
          ours: figure(ours),
          baseline: { label: 'one no-op activity workflows/s', value: figure(base) },
          ratio,
          goal: '≥ 0.8× and ≥ 30/s',
          met: ratio.median >= 0.8 && figure(ours).median >= 30,
        },
        { metric: 'the same send job on pg-boss', unit: '/s', ours: figure(peer), ratio: ratios(ours, peer), goal: 'reported (ours ÷ pg-boss)' },
        {
          metric: 'POST …/status {active} (returns before the sends)',
          unit: 'ms',
          ours: figure(requestMs),
          goal: '< 1000 ms',
          met: figure(requestMs).median < 1000,
        },
      ],
      latencies: [
        { label: 'enrollment start → message accepted', p50: p(oursLatency, 50), p99: p(oursLatency, 99) },
        { label: 'baseline: one-activity workflow start → close', p50: p(baseLatency, 50), p99: p(baseLatency, 99) },
      ],
      notes: [
        `CPU ms per send, fan-out included (last repetition): ${formatCpu(cpu.ours)}`,
        `CPU ms per one-activity workflow (last repetition): ${formatCpu(cpu.base)}`,
        `sends/s while the fan-out ran and after it, by repetition: ${phases.join('; ')}`,
      ],
    };
  },
};
