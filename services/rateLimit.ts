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
import { ApiError } from '../lib/errors';

/** A DataSource or an EntityManager (its transaction, if any, carries the hit). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

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

/** The hits of the bucket still inside the window, oldest first. */
const RECENT = `ARRAY(SELECT h FROM unnest(r.hits) h WHERE h > now() - $3::bigint * interval '1 millisecond' ORDER BY h)`;
/** Seconds until the oldest hit that keeps the bucket full leaves the window. */
const RETRY = (recent: string) =>
  `greatest(1, ceil(extract(epoch FROM ${recent}[cardinality(${recent}) - $2 + 1] + $3::bigint * interval '1 millisecond' - now())))::int`;

/** Counts one hit against `bucket` if fewer than `limit` were counted in the last `windowMs`. */
export async function take(db: Queryable, bucket: string, limit: number, windowMs: number): Promise<RateLimitResult> {
  check(bucket, limit, windowMs);
  // A sweep (below, in any process) may delete the bucket's expired row between
  // its insert and the locking read; the take then starts again on a new row.
  for (let attempt = 1; ; attempt++) {
    const row = await takeOnce(db, bucket, limit, windowMs);
    if (row) {
      // Buckets nobody has hit for a window go away, a few at a time.
      if (Math.random() < 0.02) await db.query('DELETE FROM rate_limits WHERE bucket IN (SELECT bucket FROM rate_limits WHERE expires_at < now() LIMIT 100)');
      return { allowed: row.allowed, retryAfterSeconds: row.retry };
    }
    if (attempt === 5) throw new Error('rate limit bucket removed by concurrent sweeps five times over');
  }
}

async function takeOnce(db: Queryable, bucket: string, limit: number, windowMs: number): Promise<{ allowed: boolean; retry: number } | undefined> {
  await db.query('INSERT INTO rate_limits (bucket) VALUES ($1) ON CONFLICT (bucket) DO NOTHING', [bucket]);
  // One statement: the row lock (FOR UPDATE) makes a concurrent taker wait
  // and then see this hit. The outer SELECT keeps the answer a plain row list.
  const [row] = (await db.query(
    `WITH cur AS (SELECT r.bucket, ${RECENT} AS recent FROM rate_limits r WHERE r.bucket = $1 FOR UPDATE),
          upd AS (
            UPDATE rate_limits t SET
              hits = CASE WHEN cardinality(cur.recent) < $2 THEN cur.recent || now() ELSE cur.recent END,
              expires_at = now() + $3::bigint * interval '1 millisecond'
            FROM cur WHERE t.bucket = cur.bucket
            RETURNING cardinality(cur.recent) < $2 AS allowed,
                      CASE WHEN cardinality(cur.recent) < $2 THEN 0 ELSE ${RETRY('cur.recent')} END AS retry)
     SELECT allowed, retry FROM upd`,
    [bucket, limit, windowMs],
  )) as { allowed: boolean; retry: number }[];
  return row;
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
  const [row] = (await db.query(
    `SELECT cardinality(cur.recent) AS used, CASE WHEN cardinality(cur.recent) < $2 THEN 0 ELSE ${RETRY('cur.recent')} END AS retry
       FROM (SELECT ${RECENT} AS recent FROM rate_limits r WHERE r.bucket = $1) cur`,
    [bucket, limit, windowMs],
  )) as { used: number; retry: number }[];
  const used = row?.used ?? 0;
  return { allowed: used < limit, retryAfterSeconds: used < limit ? 0 : (row?.retry ?? 1) };
}

/** Gives back the newest hit of `bucket`: a take that turned out not to count (a sign-in that succeeded). */
export async function giveBack(db: Queryable, bucket: string): Promise<void> {
  await db.query('UPDATE rate_limits SET hits = hits[1:cardinality(hits) - 1] WHERE bucket = $1 AND cardinality(hits) > 0', [bucket]);
}

/** The API's answer to a refused take: 429 `rate_limited`; the error handler sets `Retry-After` from the details. */
export function rateLimited(retryAfterSeconds: number, message = 'too many requests; try again later'): ApiError {
  return new ApiError(429, 'rate_limited', message, { retryAfterSeconds });
}
