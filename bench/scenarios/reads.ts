// 3. Tenant-scoped reads: the lead list's SQL (a page of 50, with and without a
// search term) as the application role under row-level security, against the
// same SQL with the tenant written into it as a role that bypasses RLS, over
// the same pool; then the API's lead list at its most and at half of that.
// 6. API memory under that load.
import pg from 'pg';
import { BenchApi } from '../lib/api';
import { closedLoop, openLoop, rssMiB } from '../lib/load';
import { type BenchTenant, createBenchTenant, generateLeads } from '../lib/seed';
import { figure, percentile, ratios } from '../lib/stats';
import { type BenchContext, type LatencyRow, type ResultRow, type Scenario } from '../lib/types';
import { LEAD_ROWS, leadPageStatement } from '../../db/leads';

const NO_RLS_ROLE = 'tenantflow_bench_no_rls';

export const reads: Scenario = {
  name: 'reads',
  title: 'Tenant-scoped reads: the lead list under RLS',
  async run(ctx: BenchContext) {
    const { stack, sizes } = ctx;
    const perTenant = Math.floor(sizes.leads / sizes.tenants);
    const tenants: BenchTenant[] = [];
    for (let i = 0; i < sizes.tenants; i++) {
      const t = await createBenchTenant(stack.ownerDs, `reads${i}`);
      await generateLeads(stack.owner, t, t.customers[0]!, perTenant, `r${i}-`);
      tenants.push(t);
    }
    ctx.log(`reads: ${sizes.tenants} tenants × ${perTenant} leads loaded`);
    // The baseline role: same grants, no RLS. The app role may switch to it inside a transaction.
    const appRole = (await stack.app.query('SELECT current_user AS u')).rows[0].u as string;
    // BYPASSRLS and CHECKPOINT take a superuser: the embedded cluster's admin connection.
    const admin = new pg.Client({ connectionString: stack.platform.postgres!.adminUrl });
    await admin.connect();
    try {
      await admin.query(`DO $$ BEGIN CREATE ROLE ${NO_RLS_ROLE} NOLOGIN BYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
      await admin.query(`GRANT ${NO_RLS_ROLE} TO ${appRole}`);
      // Measure a settled table, as a lead list that was loaded a while ago
      // is: vacuumed and analysed (autovacuum would otherwise start on the
      // new rows during the measurement), and its pages written out by a
      // checkpoint now rather than in the middle of the latency run.
      await stack.owner.query('VACUUM ANALYZE leads');
      await admin.query('CHECKPOINT');
    } finally {
      await admin.end();
    }
    // The campaign scenario's archived enrollments may still be closing: measure on a quiet server.
    await stack.settle();
    await stack.owner.query(`GRANT SELECT ON leads TO ${NO_RLS_ROLE}`);

    const pick = (i: number) => tenants[i % tenants.length]!;
    const term = (i: number) => `company ${(i * 7) % 5003}`;
    // The lead list's own statements (db/leads.ts), first page of 50; with a
    // search term, the page's keys from the customer's index, then their rows.
    const statement = (customerId: string, q?: string) => leadPageStatement(customerId, { limit: 50, q });
    const sqlCall = (rls: boolean, search: boolean) => async (i: number) => {
      const t = pick(i);
      const c = await stack.app.connect();
      try {
        await c.query('BEGIN');
        if (rls) {
          await c.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenantId]);
          const first = statement(t.customers[0]!, search ? term(i) : undefined);
          const { rows } = await c.query(first.sql, first.params);
          if (search) await c.query(LEAD_ROWS, [rows.map((r: { id: string }) => r.id)]);
        } else {
          await c.query(`SET LOCAL ROLE ${NO_RLS_ROLE}`);
          // The same SQL with the tenant written in, as an application without RLS would.
          const first = statement(t.customers[0]!, search ? term(i) : undefined);
          const scoped = first.sql.replace('WHERE customer_id = $1', `WHERE tenant_id = $${first.params.length + 1} AND customer_id = $1`);
          const { rows } = await c.query(scoped, [...first.params, t.tenantId]);
          if (search) await c.query(LEAD_ROWS.replace('WHERE id', 'WHERE tenant_id = $2 AND id'), [rows.map((r: { id: string }) => r.id), t.tenantId]);
        }
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    };
    const rows: ResultRow[] = [];
    const latencies: LatencyRow[] = [];
    for (const search of [false, true]) {
      const ours: number[] = [];
      const base: number[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        ours.push((await closedLoop({ concurrency: 10, seconds: sizes.loadSeconds }, sqlCall(true, search))).perSecond);
        base.push((await closedLoop({ concurrency: 10, seconds: sizes.loadSeconds }, sqlCall(false, search))).perSecond);
      }
      const r = ratios(ours, base);
      rows.push({
        metric: `lead list SQL${search ? ' with a search term' : ''}, app role under RLS`,
        unit: 'q/s',
        ours: figure(ours),
        baseline: { label: 'same SQL, tenant in the WHERE, role without RLS', value: figure(base) },
        ratio: r,
        goal: '≥ 0.9×',
        met: r.median >= 0.9,
      });
      ctx.log(`reads: SQL${search ? ' search' : ''}: ${figure(ours).median.toFixed(0)} vs ${figure(base).median.toFixed(0)} q/s`);
    }

    // Through the API, signed in as each tenant's owner.
    const apis: BenchApi[] = [];
    for (const t of tenants.slice(0, Math.min(tenants.length, 5))) {
      const a = new BenchApi(stack.api);
      await a.signIn(t.email);
      apis.push(a);
    }
    const apiCall = (search: boolean) => async (i: number) => {
      const k = i % apis.length;
      const q = search ? `?limit=50&q=${encodeURIComponent(`company ${(i * 7) % 5003}`)}` : '?limit=50';
      await apis[k]!.call('GET', `/api/leads${q}`, tenants[k]!.customers[0]);
    };
    const apiRss: number[] = [];
    for (const search of [false, true]) {
      const max: number[] = [];
      const p50: number[] = [];
      const p99: number[] = [];
      for (let rep = 0; rep < ctx.reps; rep++) {
        const sampler = setInterval(() => void rssMiB(stack.pid('api')).then((m) => apiRss.push(m)), 500);
        const sat = await closedLoop({ concurrency: 10, seconds: sizes.loadSeconds }, apiCall(search));
        max.push(sat.perSecond);
        const half = await openLoop({ ratePerSecond: sat.perSecond / 2, seconds: sizes.loadSeconds }, apiCall(search));
        clearInterval(sampler);
        p50.push(percentile(half.latenciesMs, 50));
        p99.push(percentile(half.latenciesMs, 99));
      }
      rows.push({ metric: `GET /api/leads${search ? '?q=…' : ''} (page of 50), 10 connections`, unit: 'req/s', ours: figure(max) });
      latencies.push({
        label: `GET /api/leads${search ? '?q=…' : ''} at half the maximum rate`,
        p50: figure(p50),
        p99: figure(p99),
        goal: 'p99 < 25 ms',
        met: figure(p99).median < 25,
      });
      ctx.log(`reads: API${search ? ' search' : ''}: ${figure(max).median.toFixed(0)} req/s, p99 ${figure(p99).median.toFixed(1)} ms at half`);
    }
    rows.push({ metric: 'API RSS under this load (largest sample)', unit: 'MiB', ours: figure([Math.max(...apiRss.filter(Number.isFinite))]) });
    return { name: 'reads', title: this.title, sizes: { tenants: sizes.tenants, leads: perTenant * sizes.tenants }, rows, latencies, notes: [] };
  },
};
