// 8. Analytics export: events per second through `GET /api/analytics/export`
// (CSV, one customer's month; cursor on the request's tenant transaction,
// framed by csv-stringify with formula escaping, streamed over HTTP) against
// `COPY (the same statement) TO STDOUT WITH CSV` in the same tenant context,
// whose bytes are counted and dropped. Both pay for the statement's own
// formatting (times in the zone as text); the difference is the route's.
// Reported; the goal is at least half of COPY.
import type pg from 'pg';
import { eventExportStatement } from '../../db/analyticsEvents';
import { BenchApi, streamGet } from '../lib/api';
import { createBenchTenant, inTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type ResultRow, type Scenario, type ScenarioResult } from '../lib/types';

const FROM = '2024-01-01';
const TO = '2024-01-31';

/** COPY … TO STDOUT through node-postgres's submittable interface: the bytes counted as they arrive, nothing kept. */
function copyOut(client: pg.PoolClient, text: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    let failed: Error | undefined;
    const submittable = {
      submit: (connection: { query(text: string): void }) => connection.query(text),
      handleCopyData: (msg: { chunk: Buffer }) => void (bytes += msg.chunk.length),
      handleRowDescription: () => undefined,
      handleDataRow: () => undefined,
      handleCommandComplete: () => undefined,
      handleEmptyQuery: () => undefined,
      handleError: (err: Error) => void (failed = err),
      handleReadyForQuery: () => (failed ? reject(failed) : resolve(bytes)),
    };
    void client.query(submittable as unknown as pg.Submittable);
  });
}

/** The statement with its parameters written in as literals (COPY takes none). */
function inlined(client: pg.PoolClient, text: string, values: unknown[]): string {
  return values.reduceRight<string>((sql, v, i) => sql.replaceAll(`$${i + 1}`, client.escapeLiteral(String(v))), text);
}

export const exportEvents: Scenario = {
  name: 'export',
  title: 'Analytics export: streamed CSV through the route vs COPY TO STDOUT',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const { stack, sizes } = ctx;
    const n = sizes.exportRows;
    const t = await createBenchTenant(stack.ownerDs, 'export', 1);
    const customerId = t.customers[0]!;
    const api = new BenchApi(stack.api);
    await api.signIn(t.email);
    // Narrow rows, one every 2 seconds from the first of the month (a million fits in it).
    await inTenant(stack.owner, t.tenantId, async (c) => {
      await c.query("SELECT set_config('statement_timeout', '0', true)");
      await c.query(
        `INSERT INTO analytics_events (tenant_id, id, type, occurred_at, customer_id, campaign_id, surface, dedupe_key)
         SELECT current_setting('app.tenant_id')::uuid, 'aev_' || lpad(g::text, 26, '0'), 'message.sent',
                timestamptz '2024-01-01T00:00:00Z' + g * interval '2 seconds', $1, NULL, NULL, 'bench:' || g
           FROM generate_series(1, $2::int) g`,
        [customerId, n],
      );
    });
    await stack.owner.query('ANALYZE analytics_events');

    const ours: number[] = [];
    const base: number[] = [];
    const notes: string[] = [];
    const { text, values } = eventExportStatement({ customerId, from: FROM, to: TO, timeZone: 'UTC' }, 'csv');
    for (let rep = 0; rep < ctx.reps; rep++) {
      await stack.settle();
      let t0 = performance.now();
      const res = await streamGet(`${stack.api}/api/analytics/export?from=${FROM}&to=${TO}`, api.headers(customerId));
      ours.push(n / ((performance.now() - t0) / 1000));
      if (res.status !== 200 || res.lines !== n + 1) notes.push(`repetition ${rep + 1}: the route answered ${res.status} with ${res.lines - 1} of ${n} rows`);
      const copied = await inTenant(stack.app, t.tenantId, async (c) => {
        t0 = performance.now();
        const bytes = await copyOut(c, `COPY (${inlined(c, text, values)}) TO STDOUT WITH (FORMAT csv, HEADER)`);
        return { bytes, seconds: (performance.now() - t0) / 1000 };
      });
      base.push(n / copied.seconds);
      ctx.log(`export: ${n} events, route ${ours[rep]!.toFixed(0)}/s (${res.bytes} bytes) vs COPY ${base[rep]!.toFixed(0)}/s (${copied.bytes} bytes)`);
    }
    const ratio = ratios(ours, base);
    const rows: ResultRow[] = [
      {
        metric: `GET /api/analytics/export (CSV, ${n} events of one customer, cursor + csv-stringify + HTTP)`,
        unit: 'events/s',
        ours: figure(ours),
        baseline: { label: 'COPY (the same statement) TO STDOUT WITH CSV, in the tenant context', value: figure(base) },
        ratio,
        goal: '≥ 0.5× COPY',
        met: ratio.median >= 0.5,
      },
    ];
    return { name: 'export', title: this.title, sizes: { events: n }, rows, latencies: [], notes };
  },
};
