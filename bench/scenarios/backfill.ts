// 5. Backfill: rows per second of the legacy tenant backfill (batches under
// lock_timeout, each recorded) against one UPDATE of the same rows with the
// same SQL, and the longest batch lock. The run fills and verifies; the
// finishing constraints are left out (fillOnly) so every repetition starts
// from the same table.
import { randomUUID } from 'node:crypto';
import { findBackfill } from '../../migrations/backfills';
import { generateLegacyBookings } from '../../migrations/backfills/legacyTenantId';
import { BACKFILL_TASK_QUEUE, type BackfillInput } from '../../workflows/backfill.contract';
import { createBenchTenant } from '../lib/seed';
import { figure, ratios } from '../lib/stats';
import { type BenchContext, type Scenario } from '../lib/types';

export const backfill: Scenario = {
  name: 'backfill',
  title: 'Backfill: legacy bookings tenant_id',
  async run(ctx: BenchContext) {
    const { stack } = ctx;
    const n = ctx.sizes.backfill;
    const def = findBackfill('legacy-tenant-id')!;
    const sql = async (text: string, params?: unknown[]) => {
      const r = await stack.owner.query(text, params);
      return { rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount };
    };
    const tenants = [];
    for (let i = 0; i < 4; i++) tenants.push((await createBenchTenant(stack.ownerDs, `legacy${i}`)).tenantId);
    const { lastId } = await generateLegacyBookings(sql, { tenantIds: tenants, rows: n });
    await stack.owner.query('ANALYZE legacy_bookings');
    const reset = () => stack.owner.query('UPDATE legacy_bookings SET tenant_id = NULL');
    const ours: number[] = [];
    const base: number[] = [];
    const longest: number[] = [];
    for (let rep = 0; rep < ctx.reps; rep++) {
      await reset();
      await stack.owner.query('VACUUM legacy_bookings');
      const runId = randomUUID();
      const t0 = Date.now();
      await stack.client.workflow.execute('backfill', {
        workflowId: `platform/backfill/legacy-tenant-id/bench-${runId}`,
        taskQueue: BACKFILL_TASK_QUEUE,
        args: [{ name: def.name, runId, fillOnly: true } satisfies BackfillInput],
      });
      ours.push(n / ((Date.now() - t0) / 1000));
      const [b] = (
        await stack.owner.query(
          "SELECT max(duration_ms)::int AS ms FROM backfill_batches WHERE backfill = $1 AND status = 'applied' AND started_at >= to_timestamp($2 / 1000.0)",
          [def.name, t0],
        )
      ).rows as { ms: number }[];
      longest.push(b!.ms);
      await reset();
      await stack.owner.query('VACUUM legacy_bookings');
      const t1 = Date.now();
      await def.update(sql, { afterKey: null, lastKey: String(lastId) });
      base.push(n / ((Date.now() - t1) / 1000));
      ctx.log(`backfill: rep ${rep + 1}: ${ours.at(-1)!.toFixed(0)} rows/s (longest batch ${b!.ms} ms) vs one UPDATE ${base.at(-1)!.toFixed(0)} rows/s`);
    }
    const ratio = ratios(ours, base);
    return {
      name: 'backfill',
      title: this.title,
      sizes: { rows: n },
      rows: [
        {
          metric: 'rows/s, start to verified (no finish)',
          unit: '/s',
          ours: figure(ours),
          baseline: { label: 'one UPDATE of the same rows/s', value: figure(base) },
          ratio,
          goal: '≥ 0.5×',
          met: ratio.median >= 0.5,
        },
        { metric: 'longest batch lock (target 200 ms)', unit: 'ms', ours: figure(longest), goal: '≤ 400 ms', met: figure(longest).max <= 400 },
      ],
      latencies: [],
      notes: [],
    };
  },
};
