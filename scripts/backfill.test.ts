// `npm run backfill`: the operator's CLI against the real database and
// Temporal, through the same service as the API. A dry run of one tenant's
// child counts without changing a row; status and list show it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { type Pool } from 'pg';
import { type DataSource } from 'typeorm';
import { insertLegacyLeads, ownerPool, startBackfillWorker, type RunningWorker } from '../test/helpers/backfill';
import { openDataSource } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { useSuiteDatabase } from '../test/helpers/suite';
import { temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { ROOT } from './lib/tools';

const suite = useSuiteDatabase('backfill_cli');
let owner: DataSource;
let pool: Pool;
let worker: RunningWorker;
let t: TenantFixture;
const taskQueue = uniqueTaskQueue('backfill-cli');

/** Runs the CLI as a process (asynchronously: the backfill worker runs in this one). */
function cli(...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'backfill.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          DATABASE_APP_URL: suite.db.appUrl,
          TEMPORAL_ADDRESS: temporalAddress(),
          TEMPORAL_BACKFILL_TASK_QUEUE: taskQueue,
          LOG_LEVEL: 'warn',
        },
        timeout: 90_000,
      },
      (err, stdout, stderr) => resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, out: `${stdout}${stderr}` }),
    );
  });
}

beforeAll(async () => {
  owner = await openDataSource(suite.db.ownerUrl);
  pool = ownerPool(suite.db.ownerUrl);
  t = await createTenant(owner, { customers: 1 });
  await insertLegacyLeads(pool, t.tenant.id, t.customers[0]!.id, 300);
  worker = await startBackfillWorker({ ownerUrl: suite.db.ownerUrl, taskQueue });
});

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await owner?.destroy();
});

it('dry-runs one tenant of a tenant-scoped backfill, shows its status, and refuses what it cannot do', async () => {
  const started = await cli('start', 'leads-email-domain', '--tenant', t.tenant.id, '--dry-run', '--watch');
  expect(started.status).toBe(0);
  expect(started.out).toContain(`started tenant/${t.tenant.id}/backfill/leads-email-domain (dry run)`);
  expect(started.out).toMatch(/100\.0 %\s+300\/300 rows/);
  // A dry run changes nothing.
  const c = await pool.connect();
  await c.query('BEGIN');
  await c.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenant.id]);
  const filled = await c.query('SELECT count(*)::int AS n FROM leads WHERE email_domain IS NOT NULL');
  await c.query('COMMIT');
  c.release();
  expect(filled.rows[0].n).toBe(0);

  const status = await cli('status', 'leads-email-domain', '--tenant', t.tenant.id);
  expect(status.status).toBe(0);
  expect(status.out).toContain('completed');
  expect(status.out).toContain('(dry run)');

  const list = await cli('list');
  expect(list.out).toContain('legacy-tenant-id  (platform: legacy_bookings.tenant_id)');

  const bad = await cli('start', 'legacy-tenant-id', '--tenant', t.tenant.id);
  expect(bad.status).toBe(1);
  expect(bad.out).toContain('not tenant-scoped');
  const unknown = await cli('pause', 'no-such-backfill');
  expect(unknown.status).toBe(1);
  expect((await cli('frobnicate')).out).toContain('usage: npm run backfill');
  const audit = await pool.query('SELECT action, request_id FROM platform_audit_log ORDER BY id');
  expect(audit.rows.map((r: { action: string }) => r.action)).toEqual(['backfill.start']);
});
