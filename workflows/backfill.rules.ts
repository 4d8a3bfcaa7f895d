// The backfill engine's pure rule: how a batch's size adapts to its target
// time (docs/operations.md describes the engine and its settings).
import { type BackfillSettings } from './backfill.contract';

/**
 * The next batch size after a batch that took `ms`: toward the target time,
 * growing by at most ×1.2 and shrinking in proportion, within [min, max].
 */
export function nextBatchSize(size: number, ms: number, s: Pick<BackfillSettings, 'targetBatchMs' | 'minBatch' | 'maxBatch'>): number {
  const ratio = s.targetBatchMs / Math.max(ms, 1);
  const next = ratio >= 1 ? Math.floor(size * Math.min(1.2, ratio)) : Math.floor(size * ratio);
  return Math.max(s.minBatch, Math.min(s.maxBatch, Math.max(next, ratio >= 1 ? size : 0)));
}

/** After a timed-out batch: half, never below the minimum. */
export const halvedBatchSize = (size: number, minBatch: number) => Math.max(minBatch, Math.floor(size / 2));
