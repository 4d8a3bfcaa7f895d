// The batch-size rule of the backfill engine: toward the target batch time,
// growing by at most ×1.2 a batch, shrinking in proportion, halving on a
// timeout, always within [min, max].
import { DEFAULT_BACKFILL_SETTINGS } from './backfill.contract';
import { halvedBatchSize, nextBatchSize } from './backfill.rules';

const s = { ...DEFAULT_BACKFILL_SETTINGS, targetBatchMs: 200, minBatch: 10, maxBatch: 20_000 };

it('grows by at most ×1.2 however fast a batch was', () => {
  expect(nextBatchSize(1_000, 1, s)).toBe(1_200);
  expect(nextBatchSize(1_000, 190, s)).toBe(1_052);
  let size = 100;
  for (let i = 0; i < 50; i++) {
    const next = nextBatchSize(size, 5, s);
    expect(next).toBeLessThanOrEqual(Math.floor(size * 1.2));
    expect(next).toBeGreaterThanOrEqual(size);
    size = next;
  }
  expect(size).toBe(20_000);
});

it('shrinks in proportion to how far a batch overran, and halves on a timeout, within the bounds', () => {
  expect(nextBatchSize(1_000, 400, s)).toBe(500);
  expect(nextBatchSize(1_000, 250, s)).toBe(800);
  expect(nextBatchSize(20, 10_000, s)).toBe(10);
  expect(halvedBatchSize(1_000, 10)).toBe(500);
  expect(halvedBatchSize(15, 10)).toBe(10);
});
