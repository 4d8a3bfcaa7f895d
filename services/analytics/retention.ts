// Analytics retention (docs/analytics.md, "Retention"): a tenant that sets a
// number of days keeps its events that long, by when they happened. The
// worker prunes every tenant that set one on a timer, in bounded batches —
// each its own short transaction, so a large backlog never holds locks for
// long and a run that stops halfway just leaves the rest for the next one.
import { type DataSource } from 'typeorm';
import { deleteEventsOlderThan } from '../../db/analyticsEvents';
import { withTenant } from '../../db/tenantContext';
import { tenantsWithAnalyticsRetention } from '../../db/tenants';

export interface PruneOptions {
  /** Events deleted per transaction. */
  batchSize?: number;
  /** Batches per tenant in one run; what is left waits for the next run. */
  maxBatches?: number;
}

/** One pruning run over every tenant with a retention; answers how many events went. */
export async function pruneExpiredEvents(dataSource: DataSource, opts: PruneOptions = {}): Promise<{ tenants: number; deleted: number }> {
  const batchSize = opts.batchSize ?? 5_000;
  const maxBatches = opts.maxBatches ?? 20;
  const tenants = await tenantsWithAnalyticsRetention(dataSource);
  let deleted = 0;
  for (const t of tenants) {
    for (let batch = 0; batch < maxBatches; batch++) {
      const n = await withTenant(dataSource, t.id, (m) => deleteEventsOlderThan(m, t.days, batchSize));
      deleted += n;
      if (n < batchSize) break;
    }
  }
  return { tenants: tenants.length, deleted };
}

/** How often the worker prunes. */
export const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
