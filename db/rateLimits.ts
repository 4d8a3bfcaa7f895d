// The shared rate limiter's buckets (table rate_limits, one row per bucket):
// sliding-window counters kept in PostgreSQL so every API process and worker
// counts against the same limit. The row keeps the instants of its last
// `limit` hits; times are the database's clock. services/rateLimit.ts holds
// the rules (validation, retries, the 429); these are its statements.

/** A DataSource or an EntityManager (its transaction, if any, carries the hit). */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** The hits of the bucket still inside the window, oldest first. */
const RECENT = `ARRAY(SELECT h FROM unnest(r.hits) h WHERE h > now() - $3::bigint * interval '1 millisecond' ORDER BY h)`;
/** Seconds until enough hits have left the window for `n` more (the oldest that keeps the bucket full, for one). */
const RETRY = (recent: string, n = '1') =>
  `greatest(1, ceil(extract(epoch FROM ${recent}[cardinality(${recent}) + ${n} - $2] + $3::bigint * interval '1 millisecond' - now())))::int`;

/** Deletes up to 100 buckets nobody has hit for a window. */
export async function sweepExpiredBuckets(db: Queryable): Promise<void> {
  await db.query('DELETE FROM rate_limits WHERE bucket IN (SELECT bucket FROM rate_limits WHERE expires_at < now() LIMIT 100)');
}

/** Creates the bucket's row if it has none. */
export async function ensureBucket(db: Queryable, bucket: string): Promise<void> {
  await db.query('INSERT INTO rate_limits (bucket) VALUES ($1) ON CONFLICT (bucket) DO NOTHING', [bucket]);
}

/** The bucket's hits inside the window and, when full, the seconds until one leaves it; counts nothing. */
export async function bucketUsage(db: Queryable, bucket: string, limit: number, windowMs: number): Promise<{ used: number; retry: number } | undefined> {
  const [row] = (await db.query(
    `SELECT cardinality(cur.recent) AS used, CASE WHEN cardinality(cur.recent) < $2 THEN 0 ELSE ${RETRY('cur.recent')} END AS retry
       FROM (SELECT ${RECENT} AS recent FROM rate_limits r WHERE r.bucket = $1) cur`,
    [bucket, limit, windowMs],
  )) as { used: number; retry: number }[];
  return row;
}

/** Removes the bucket's newest hit. */
export async function dropNewestHit(db: Queryable, bucket: string): Promise<void> {
  await db.query('UPDATE rate_limits SET hits = hits[1:cardinality(hits) - 1] WHERE bucket = $1 AND cardinality(hits) > 0', [bucket]);
}

/**
 * Counts `n` hits at once if the bucket holds at most `limit - n` in the window, else none (all or nothing);
 * undefined when the row is gone (swept since ensureBucket). When refused, `retry` is the seconds until enough
 * hits have left the window. One statement: the row lock (FOR UPDATE) makes a concurrent taker wait and then see
 * these hits. The outer SELECT keeps the answer a plain row list.
 */
export async function takeBucketHits(
  db: Queryable,
  bucket: string,
  n: number,
  limit: number,
  windowMs: number,
): Promise<{ allowed: boolean; retry: number } | undefined> {
  const [row] = (await db.query(
    `WITH cur AS (SELECT r.bucket, ${RECENT} AS recent FROM rate_limits r WHERE r.bucket = $1 FOR UPDATE),
          upd AS (
            UPDATE rate_limits t SET
              hits = CASE WHEN cardinality(cur.recent) + $4 <= $2 THEN cur.recent || array_fill(now(), ARRAY[$4::int]) ELSE cur.recent END,
              expires_at = now() + $3::bigint * interval '1 millisecond'
            FROM cur WHERE t.bucket = cur.bucket
            RETURNING cardinality(cur.recent) + $4 <= $2 AS allowed,
                      CASE WHEN cardinality(cur.recent) + $4 <= $2 THEN 0 ELSE ${RETRY('cur.recent', '$4')} END AS retry)
     SELECT allowed, retry FROM upd`,
    [bucket, limit, windowMs, n],
  )) as { allowed: boolean; retry: number }[];
  return row;
}
