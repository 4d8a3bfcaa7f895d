// Automation, version, run and step rows written straight into a tenant's
// tables (as the application role, under its RLS), for tests of what reads
// them: the run API, the console's run pages, the isolation matrix.
import { type DataSource } from 'typeorm';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';

export const SAMPLE_DEFINITION = {
  trigger: { type: 'manual' },
  steps: [
    { type: 'add_tag', tag: 'greeted' },
    { type: 'wait', duration: '1h' },
    { type: 'webhook_call', url: 'https://hooks.example/ping' },
  ],
};

/** An automation (of a customer, or tenant-wide) with `versions` versions, the last one live. */
export async function insertAutomation(
  ds: DataSource,
  tenantId: string,
  opts: { customerId?: string | null; versions?: number; name?: string } = {},
): Promise<string> {
  const id = newId('auto');
  await withTenant(ds, tenantId, async (m) => {
    await m.query(
      `INSERT INTO automations (tenant_id, id, customer_id, name, enabled, webhook_secret)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, true, '{"v":"test"}'::jsonb)`,
      [id, opts.customerId ?? null, opts.name ?? 'Test automation'],
    );
    const versions = opts.versions ?? 1;
    for (let v = 1; v <= versions; v++)
      await m.query(
        `INSERT INTO automation_versions (tenant_id, automation_id, version, definition, published_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3::jsonb, now())`,
        [id, v, JSON.stringify(SAMPLE_DEFINITION)],
      );
    await m.query('UPDATE automations SET live_version = $2 WHERE id = $1', [id, versions]);
  });
  return id;
}

export interface RunRowInput {
  automationId: string;
  version?: number;
  status?: 'queued' | 'running' | 'waiting' | 'completed' | 'failed' | 'canceled';
  customerId?: string | null;
  leadId?: string | null;
  trigger?: { type: string; eventId?: string; payload: Record<string, unknown> };
  error?: { code: string; message: string; step?: string } | null;
  rerunOf?: string | null;
  dryRun?: boolean;
}

/** A run in any status, with the times that status implies. */
export async function insertRunRow(ds: DataSource, tenantId: string, r: RunRowInput): Promise<string> {
  // Run ids order by their millisecond and at random within one: the next row's id is a millisecond newer.
  await new Promise((resolve) => setTimeout(resolve, 2));
  const id = newId('arun');
  const status = r.status ?? 'queued';
  await withTenant(ds, tenantId, (m) =>
    m.query(
      `INSERT INTO automation_runs (tenant_id, id, automation_id, version, customer_id, lead_id, status, trigger, dry_run, rerun_of, error, started_at, ended_at)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb,
               CASE WHEN $6 = 'queued' THEN NULL ELSE clock_timestamp() END,
               CASE WHEN $6 IN ('completed', 'failed', 'canceled') THEN clock_timestamp() END)`,
      [
        id,
        r.automationId,
        r.version ?? 1,
        r.customerId ?? null,
        r.leadId ?? null,
        status,
        JSON.stringify(r.trigger ?? { type: 'manual', payload: { note: 'by hand' } }),
        r.dryRun ?? false,
        r.rerunOf ?? null,
        r.error ? JSON.stringify(r.error) : null,
      ],
    ),
  );
  return id;
}

export interface StepRowInput {
  path: string;
  ordinal: number;
  type: string;
  status: 'running' | 'waiting' | 'completed' | 'failed' | 'skipped' | 'canceled';
  attempt?: number;
  output?: unknown;
  error?: Record<string, unknown> | null;
}

/** Step rows of a run, as the run workflow records them. */
export async function insertStepRows(ds: DataSource, tenantId: string, runId: string, steps: StepRowInput[]): Promise<void> {
  await withTenant(ds, tenantId, async (m) => {
    for (const s of steps)
      await m.query(
        `INSERT INTO automation_run_steps (tenant_id, run_id, path, ordinal, type, status, attempt, output, error, ended_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb,
                 CASE WHEN $5 IN ('running', 'waiting') THEN NULL ELSE clock_timestamp() END)`,
        [
          runId,
          s.path,
          s.ordinal,
          s.type,
          s.status,
          s.attempt ?? 1,
          s.output === undefined ? null : JSON.stringify(s.output),
          s.error ? JSON.stringify(s.error) : null,
        ],
      );
  });
}

/** A failed run of three steps: the first completed, the second completed, the third (a webhook) failed on its third attempt. */
export async function insertFailedRun(ds: DataSource, tenantId: string, automationId: string, opts: Partial<RunRowInput> = {}): Promise<string> {
  const runId = await insertRunRow(ds, tenantId, {
    automationId,
    status: 'failed',
    error: { code: 'webhook_failed', message: 'the receiver answered 500', step: '2' },
    ...opts,
  });
  await insertStepRows(ds, tenantId, runId, [
    { path: '0', ordinal: 0, type: 'add_tag', status: 'completed', output: { added: true } },
    { path: '1', ordinal: 1, type: 'wait', status: 'completed' },
    { path: '2', ordinal: 2, type: 'webhook_call', status: 'failed', attempt: 3, error: { code: 'webhook_failed', message: 'the receiver answered 500' } },
  ]);
  return runId;
}
