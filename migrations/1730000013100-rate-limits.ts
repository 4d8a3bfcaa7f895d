// The shared rate limiter's counters (services/rateLimit.ts): one row per bucket
// ("login-failures:ip:…", "invites:tenant:…"), holding the instants of the
// hits inside the bucket's window. In PostgreSQL, so every API process
// counts against the same limit. A platform table: buckets are named by the
// code that takes them, and a row holds nothing but times.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class RateLimits1730000013100 implements MigrationInterface {
  name = 'RateLimits1730000013100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rate_limits (
        bucket text PRIMARY KEY CHECK (length(bucket) BETWEEN 1 AND 300),
        hits timestamptz[] NOT NULL DEFAULT '{}',
        expires_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX rate_limits_expires_idx ON rate_limits (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE rate_limits');
  }
}
