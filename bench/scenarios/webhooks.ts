// 4. Webhook ingest: signed reply webhooks (verify, dedupe insert, route,
// signal the enrollment) per second, against bare signal-with-start calls
// from a client. The replies answer the messages the send scenario sent, whose
// enrollments wait on their second step.
//
// Two rates each: accepted (the last answer in) — the rate the goal is set on — and
// done (every workflow the calls woke or started has returned), since an
// accepted signal-with-start leaves its workflow's run for later while a
// reply's enrollment reacts at once on the same two cores. The CPU each
// event costs, by process, shows where the time goes.
import { type Client } from '@temporalio/client';
import { eachLimited } from '../../lib/eachLimited';
import { signWebhook } from '../../lib/webhookSignature';
import { enrollmentWorkflowId } from '../../workflows/ids';
import { request } from '../lib/api';
import { closedLoop, formatCpu } from '../lib/load';
import { inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type Scenario, type ScenarioResult } from '../lib/types';
import { benchSignal } from '../baseline.workflows';

const IN_FLIGHT = 16;

/** Waits for every workflow to return; the time when the last one did. */
async function allReturned(client: Client, workflowIds: string[]): Promise<number> {
  await eachLimited(workflowIds, 64, async (id) => {
    await client.workflow.getHandle(id).result();
  });
  return performance.now();
}

export const webhooks: Scenario = {
  name: 'webhooks',
  title: 'Webhook ingest: signed replies',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const { stack } = ctx;
    const open = ctx.shared.get('sends.open') as { tenantId: string; campaigns: string[] } | undefined;
    if (!open)
      return { name: 'webhooks', title: this.title, sizes: {}, rows: [], latencies: [], notes: [], skipped: 'needs the sends scenario (its open enrollments)' };
    const targets = (
      await inTenant(stack.owner, open.tenantId, (c) =>
        c.query(
          `SELECT m.message_id, m.campaign_id, m.lead_id FROM messages m JOIN enrollments e ON e.id = m.enrollment_id
            WHERE m.campaign_id = ANY($1) AND m.direction = 'outbound' AND e.status = 'active' ORDER BY m.id`,
          [open.campaigns],
        ),
      )
    ).rows as { message_id: string; campaign_id: string; lead_id: string }[];
    const perRep = Math.min(ctx.sizes.webhooks, Math.floor(targets.length / ctx.reps));
    const accepted = { ours: [] as number[], base: [] as number[] };
    const done = { ours: [] as number[], base: [] as number[] };
    const statuses = new Map<string, number>();
    const cpu = { ours: {} as Record<string, number>, base: {} as Record<string, number> };
    for (let rep = 0; rep < ctx.reps; rep++) {
      const batch = targets.slice(rep * perRep, (rep + 1) * perRep);
      await stack.settle();
      let before = stack.cpu();
      let t0 = performance.now();
      const r = await closedLoop({ concurrency: IN_FLIGHT, seconds: 600, maxRequests: batch.length }, async (i) => {
        const raw = JSON.stringify({
          id: `bench-reply-${rep}-${i}`,
          type: 'reply',
          messageId: batch[i]!.message_id,
          reply: { subject: 'Re', text: 'Yes, tell me more' },
        });
        const ts = Math.floor(Date.now() / 1000);
        const res = await request(
          `${stack.api}/api/webhooks/email/smtp`,
          'POST',
          {
            'content-type': 'application/json',
            'x-tenantflow-timestamp': String(ts),
            'x-tenantflow-signature': signWebhook(stack.webhookSecret, ts, raw),
          },
          raw,
        );
        const body = JSON.parse(res.text) as { status?: string };
        statuses.set(body.status ?? String(res.status), (statuses.get(body.status ?? String(res.status)) ?? 0) + 1);
        if (res.status !== 200) throw new Error(`webhook ${res.status}`);
      });
      accepted.ours.push(r.perSecond);
      const oursEnd = await allReturned(
        stack.client,
        batch.map((b) => enrollmentWorkflowId({ tenantId: open.tenantId, campaignId: b.campaign_id, leadId: b.lead_id })),
      );
      done.ours.push(r.done / ((oursEnd - t0) / 1000));
      cpu.ours = await stack.cpuSince(before, r.done);

      before = stack.cpu();
      const stamp = Date.now();
      t0 = performance.now();
      const b = await closedLoop({ concurrency: IN_FLIGHT, seconds: 600, maxRequests: batch.length }, async (i) => {
        await stack.client.workflow.signalWithStart('benchSignalled', {
          workflowId: `bench/signalled/${stamp}/${i}`,
          taskQueue: stack.baselineTaskQueue,
          signal: benchSignal,
          signalArgs: [],
        });
      });
      accepted.base.push(b.perSecond);
      const baseEnd = await allReturned(
        stack.client,
        batch.map((_, i) => `bench/signalled/${stamp}/${i}`),
      );
      done.base.push(b.done / ((baseEnd - t0) / 1000));
      cpu.base = await stack.cpuSince(before, b.done);
      ctx.log(
        `webhooks: rep ${rep + 1}: ${r.perSecond.toFixed(0)} webhooks/s accepted, ${done.ours.at(-1)!.toFixed(0)}/s done (${r.errors} errors) ` +
          `vs ${b.perSecond.toFixed(0)} signalWithStart/s accepted, ${done.base.at(-1)!.toFixed(0)}/s done`,
      );
    }
    const acceptedRatio = ratios(accepted.ours, accepted.base);
    const doneRatio = ratios(done.ours, done.base);
    return {
      name: 'webhooks',
      title: this.title,
      sizes: { events: perRep },
      rows: [
        {
          metric: `signed reply webhooks/s accepted, ${IN_FLIGHT} connections`,
          unit: '/s',
          ours: figure(accepted.ours),
          baseline: { label: `bare signalWithStart/s accepted, ${IN_FLIGHT} in flight`, value: figure(accepted.base) },
          ratio: acceptedRatio,
          goal: '≥ 0.8×',
          met: acceptedRatio.median >= 0.8,
        },
        {
          metric: 'the same, until every woken enrollment has returned',
          unit: '/s',
          ours: figure(done.ours),
          baseline: { label: 'the same, until every started workflow has returned', value: figure(done.base) },
          ratio: doneRatio,
          goal: '≥ 0.8×',
          met: doneRatio.median >= 0.8,
        },
      ],
      latencies: [],
      notes: [
        `webhook outcomes: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`,
        `CPU ms per webhook, with the enrollment's reaction (last repetition): ${formatCpu(cpu.ours)}`,
        `CPU ms per bare signalWithStart, with the workflow it starts (last repetition): ${formatCpu(cpu.base)}`,
      ],
    };
  },
};
