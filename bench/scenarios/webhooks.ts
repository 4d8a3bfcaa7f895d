// 4. Webhook ingest: signed reply webhooks (verify, dedupe insert, route,
// signal the enrollment) per second, against bare signal-with-start calls
// from a client. The replies answer the messages the send scenario sent, whose
// enrollments wait on their second step.
import { signWebhook } from '../../lib/webhookSignature';
import { closedLoop } from '../lib/load';
import { inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type Scenario, type ScenarioResult } from '../lib/types';
import { benchSignal } from '../baseline.workflows';

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
          "SELECT m.message_id FROM messages m JOIN enrollments e ON e.id = m.enrollment_id WHERE m.campaign_id = ANY($1) AND m.direction = 'outbound' AND e.status = 'active' ORDER BY m.id",
          [open.campaigns],
        ),
      )
    ).rows.map((r: { message_id: string }) => r.message_id);
    const perRep = Math.min(ctx.sizes.webhooks, Math.floor(targets.length / ctx.reps));
    const ours: number[] = [];
    const base: number[] = [];
    const statuses = new Map<string, number>();
    for (let rep = 0; rep < ctx.reps; rep++) {
      const batch = targets.slice(rep * perRep, (rep + 1) * perRep);
      const r = await closedLoop({ concurrency: 16, seconds: 600, maxRequests: batch.length }, async (i) => {
        const raw = JSON.stringify({ id: `bench-reply-${rep}-${i}`, type: 'reply', messageId: batch[i], reply: { subject: 'Re', text: 'Yes, tell me more' } });
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(`${stack.api}/api/webhooks/email/smtp`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-tenantflow-timestamp': String(ts),
            'x-tenantflow-signature': signWebhook(stack.webhookSecret, ts, raw),
          },
          body: raw,
        });
        const body = (await res.json()) as { status?: string };
        statuses.set(body.status ?? String(res.status), (statuses.get(body.status ?? String(res.status)) ?? 0) + 1);
        if (res.status !== 200) throw new Error(`webhook ${res.status}`);
      });
      ours.push(r.perSecond);
      const t0 = Date.now();
      const b = await closedLoop({ concurrency: 16, seconds: 600, maxRequests: batch.length }, async (i) => {
        await stack.client.workflow.signalWithStart('benchSignalled', {
          workflowId: `bench/signalled/${t0}/${i}`,
          taskQueue: stack.baselineTaskQueue,
          signal: benchSignal,
          signalArgs: [],
        });
      });
      base.push(b.perSecond);
      ctx.log(`webhooks: rep ${rep + 1}: ${r.perSecond.toFixed(0)} webhooks/s (${r.errors} errors) vs ${b.perSecond.toFixed(0)} signalWithStart/s`);
    }
    const ratio = ratios(ours, base);
    return {
      name: 'webhooks',
      title: this.title,
      sizes: { events: perRep },
      rows: [
        {
          metric: 'signed reply webhooks/s, 16 connections',
          unit: '/s',
          ours: figure(ours),
          baseline: { label: 'bare signalWithStart/s, 16 in flight', value: figure(base) },
          ratio,
          goal: '≥ 0.8×',
          met: ratio.median >= 0.8,
        },
      ],
      latencies: [],
      notes: [`webhook outcomes: ${[...statuses].map(([k, v]) => `${k} ${v}`).join(', ')}`],
    };
  },
};
