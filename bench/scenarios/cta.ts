// 8. Website events: batches of 100 CTA events posted with a publishable key
// (key and origin checked, the batch validated, the key's per-minute budget
// taken on the shared limiter, deduplicated insert into the event stream)
// per second, against a bare `INSERT … ON CONFLICT DO NOTHING` of the same
// batches into the same table from a pooled connection. Reported, not gated.
//
// A key takes 600 events a minute (docs/analytics.md, "Website events"), so
// each repetition spreads its batches over enough keys that none is refused:
// the limiter's cost is measured, not its refusals.
import { randomUUID } from 'node:crypto';
import { BenchApi, request } from '../lib/api';
import { closedLoop } from '../lib/load';
import { createBenchTenant, inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type Scenario, type ScenarioResult } from '../lib/types';

const BATCH = 100;
const IN_FLIGHT = 8;
const PER_KEY = 600;
const ORIGIN = 'https://www.bench.example';

const batchOf = (prefix: string, i: number) =>
  Array.from({ length: BATCH }, (_, k) => ({
    id: `${prefix}-${i}-${k}`,
    type: k % 3 === 0 ? 'cta.signup' : 'cta.click',
    surface: ['pricing', 'hero', 'footer'][k % 3]!,
    properties: { plan: 'pro', position: k },
  }));

export const cta: Scenario = {
  name: 'cta',
  title: 'Website events: CTA batches with a publishable key',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const { stack, sizes } = ctx;
    const batches = Math.max(1, Math.floor(sizes.cta / BATCH));
    const t = await createBenchTenant(stack.ownerDs, 'cta', 1);
    const customerId = t.customers[0]!;
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);
    const keysPerRep = Math.ceil((batches * BATCH) / PER_KEY);
    const ours: number[] = [];
    const base: number[] = [];
    let refused = 0;
    for (let rep = 0; rep < ctx.reps; rep++) {
      const keys: string[] = [];
      for (let k = 0; k < keysPerRep; k++) {
        const issued = await api.call<{ key: string }>('POST', '/api/publishable-keys', undefined, {
          name: `bench ${rep}.${k}`,
          customerId,
          allowedOrigins: [ORIGIN],
        });
        keys.push(issued.key);
      }
      const run = randomUUID().slice(0, 8);
      await stack.settle();
      const r = await closedLoop({ concurrency: IN_FLIGHT, seconds: 600, maxRequests: batches }, async (i) => {
        const key = keys[Math.floor((i * BATCH) / PER_KEY)]!;
        const res = await request(
          `${stack.api}/api/analytics/cta?key=${encodeURIComponent(key)}`,
          'POST',
          { 'content-type': 'application/json', origin: ORIGIN },
          JSON.stringify({ events: batchOf(`o${run}`, i) }),
        );
        if (res.status !== 200 && res.status !== 201) {
          refused += 1;
          throw new Error(`cta ${res.status} ${res.text.slice(0, 200)}`);
        }
      });
      ours.push((r.done * BATCH) / r.seconds);

      await stack.settle();
      const b = await closedLoop({ concurrency: IN_FLIGHT, seconds: 600, maxRequests: batches }, async (i) => {
        const events = batchOf(`b${run}`, i);
        await inTenant(stack.owner, t.tenantId, (c) =>
          c.query(
            `INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, surface, properties, dedupe_key)
             SELECT current_setting('app.tenant_id')::uuid, e.type, now(), $4, e.surface, e.properties, e.key
               FROM unnest($1::text[], $2::text[], $3::jsonb[], $5::text[]) AS e(type, surface, properties, key)
             ON CONFLICT (tenant_id, dedupe_key) DO NOTHING`,
            [
              events.map((e) => e.type),
              events.map((e) => e.surface),
              events.map((e) => JSON.stringify(e.properties)),
              customerId,
              events.map((e) => `cta:${customerId}:${e.id}`),
            ],
          ),
        );
      });
      base.push((b.done * BATCH) / b.seconds);
      ctx.log(`cta: rep ${rep + 1}: ${ours.at(-1)!.toFixed(0)} events/s through the route (${r.errors} errors) vs ${base.at(-1)!.toFixed(0)}/s bare insert`);
    }
    const ratio = ratios(ours, base);
    return {
      name: 'cta',
      title: this.title,
      sizes: { events: batches * BATCH, batch: BATCH },
      rows: [
        {
          metric: `CTA events/s through POST /api/analytics/cta, batches of ${BATCH}, ${IN_FLIGHT} in flight`,
          unit: '/s',
          ours: figure(ours),
          baseline: { label: `bare INSERT … ON CONFLICT DO NOTHING of the same batches, ${IN_FLIGHT} in flight`, value: figure(base) },
          ratio,
          goal: '≥ 0.5×',
          met: ratio.median >= 0.5,
        },
      ],
      latencies: [],
      notes: [`${keysPerRep} keys per repetition (a key takes ${PER_KEY} events a minute); ${refused} batches refused`],
    };
  },
};
