// The shared rate limiter: sliding-window counters in PostgreSQL (table
// rate_limits, one row per bucket), so every API process and worker counts
// against the same limit, and a restart forgets nothing.
//
//   const r = await take(db, `invites:tenant:${tenantId}`, 20, 60 * 60 * 1000);
//   if (!r.allowed) throw rateLimited(r.retryAfterSeconds);
//
// A bucket is any string (at most 300 characters) the caller builds from what
// it limits — name it `<what>:<by>:<id>` so callers never share one by
// accident. `take` counts a hit only when it is allowed: at most `limit` hits
// in any `windowMs`, exactly (the row keeps the instants of its last `limit`
// hits, under a row lock, so concurrent takers serialise on the bucket).
// Called with a transaction's EntityManager, the hit belongs to that
// transaction: it counts only if the transaction commits (an invitation that
// fails takes no slot), and concurrent takers of the bucket wait for it.
// Times are the database's clock, the same for every process.
import { bucketUsage, dropNewestHit, ensureBucket, sweepExpiredBuckets, takeBucketHits, type Queryable } from '../db/rateLimits';
import { ApiError } from '../lib/errors';

export interface RateLimitResult {
  allowed: boolean;
  /** When refused: seconds until a slot frees (at least 1); 0 when allowed. */
  retryAfterSeconds: number;
}

const MAX_LIMIT = 10_000;

function check(bucket: string, limit: number, windowMs: number): void {
  if (bucket.length < 1 || bucket.length > 300) throw new Error('rate limit bucket: 1–300 characters');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new Error(`rate limit: 1–${MAX_LIMIT} hits`);
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new Error('rate limit window: a positive number of milliseconds');
}

/** Counts one hit against `bucket` if fewer than `limit` were counted in the last `windowMs`. */
export function take(db: Queryable, bucket: string, limit: number, windowMs: number): Promise<RateLimitResult> {
  return takeMany(db, bucket, 1, limit, windowMs);
}

/** Takes a hit in each `[bucket, limit, windowMs]` in turn; the first that is full answers 429 `rate_limited`. */
export async function takeAll(db: Queryable, buckets: readonly (readonly [string, number, number])[], message?: string): Promise<void> {
  for (const [bucket, limit, windowMs] of buckets) {
    const hit = await take(db, bucket, limit, windowMs);
    if (!hit.allowed) throw rateLimited(hit.retryAfterSeconds, message);
  }
}

/** Whether `bucket` is full (a `take` would be refused), counting nothing. */
export async function peek(db: Queryable, bucket: string, limit: number, windowMs: number): Promise<RateLimitResult> {
  check(bucket, limit, windowMs);
  const row = await bucketUsage(db, bucket, limit, windowMs);
  const used = row?.used ?? 0;
  return { allowed: used < limit, retryAfterSeconds: used < limit ? 0 : (row?.retry ?? 1) };
}

/** Gives back the newest hit of `bucket`: a take that turned out not to count (a sign-in that succeeded). */
export async function giveBack(db: Queryable, bucket: string): Promise<void> {
  await dropNewestHit(db, bucket);
}

/** The API's answer to a refused take: 429 `rate_limited`; the error handler sets `Retry-After` from the details. */
export function rateLimited(retryAfterSeconds: number, message = 'too many requests; try again later'): ApiError {
  return new ApiError(429, 'rate_limited', message, { retryAfterSeconds });
}

/**
 * Counts `n` hits against `bucket` at once, or none: allowed only if the
 * window then holds at most `limit` (a batch that would straddle the limit
 * takes nothing). `n` is 1..limit.
 */
export async function takeMany(db: Queryable, bucket: string, n: number, limit: number, windowMs: number): Promise<RateLimitResult> {
  check(bucket, limit, windowMs);
  if (!Number.isInteger(n) || n < 1 || n > limit) throw new Error('rate limit: take 1..limit hits at once');
  // A sweep (below, in any process) may delete the bucket's expired row between
  // its insert and the locking read; the take then starts again on a new row.
  for (let attempt = 1; ; attempt++) {
    await ensureBucket(db, bucket);
    const row = await takeBucketHits(db, bucket, n, limit, windowMs);
    if (row) {
      // Buckets nobody has hit for a window go away, a few at a time.
      if (Math.random() < 0.02) await sweepExpiredBuckets(db);
      return { allowed: row.allowed, retryAfterSeconds: row.retry };
    }
    if (attempt === 5) throw new Error('rate limit bucket removed by concurrent sweeps five times over');
  }
}
