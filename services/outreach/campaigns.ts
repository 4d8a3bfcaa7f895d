// Campaigns (spec §5.3): a customer's campaign with its inboxes and send
// schedule, its versioned sequence snapshots, its status (fanned out to every
// enrollment) and its stats. Outreach tables are read and written with typed
// SQL in these modules; a campaign of another customer is the same 404 as one
// that does not exist.
import { assertWithinLimit } from '../billing/limits';
import { isId, newId } from '../../db/ids';
import { ApiError, notFound } from '../../lib/errors';
import { keysetPage, type ListParams } from '../../db/pagination';
import { type TenantAccess } from '../context';
import { fanOutCampaign, runningFanout, type WorkflowClientDeps } from './enrollments';

export interface CampaignRow {
  id: string;
  customer_id: string;
  name: string;
  status: string;
  timezone: string;
  days: number[];
  window_start: string;
  window_end: string;
  sequence_version: number | null;
  started_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface Schedule {
  timezone: string;
  days: number[];
  start: string;
  end: string;
}

export interface StepSnapshot {
  subject: string;
  body: string;
  delayHours: number;
}

const CAMPAIGN_COLUMNS = 'id, customer_id, name, status, timezone, days, window_start, window_end, sequence_version, started_at, created_at, updated_at';

export async function findCampaign(a: TenantAccess, customerId: string, id: string, lock = false): Promise<CampaignRow> {
  if (!isId('cmp', id)) throw notFound('campaign');
  const [row] = (await a.manager.query(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 AND customer_id = $2${lock ? ' FOR UPDATE' : ''}`, [
    id,
    customerId,
  ])) as CampaignRow[];
  if (!row) throw notFound('campaign');
  return row;
}

async function campaignJson(a: TenantAccess, c: CampaignRow) {
  const inboxes = (await a.manager.query('SELECT inbox_id FROM campaign_inboxes WHERE campaign_id = $1 ORDER BY inbox_id', [c.id])) as { inbox_id: string }[];
  return {
    id: c.id,
    customerId: c.customer_id,
    name: c.name,
    status: c.status,
    inboxIds: inboxes.map((i) => i.inbox_id),
    schedule: { timezone: c.timezone, days: c.days.map(Number), start: c.window_start, end: c.window_end },
    sequenceVersion: c.sequence_version,
    startedAt: c.started_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

export async function getCampaign(a: TenantAccess, customerId: string, id: string) {
  return campaignJson(a, await findCampaign(a, customerId, id));
}

export async function listCampaigns(a: TenantAccess, customerId: string, list: ListParams & { status?: string }) {
  const p = await keysetPage<CampaignRow>(a.manager, list, {
    select: `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns`,
    key: 'id',
    where: [
      ['customer_id = ?', customerId],
      ['status = ?', list.status],
    ],
    search: ['name'],
    idOf: (r) => r.id,
  });
  return { data: await Promise.all(p.data.map((c) => campaignJson(a, c))), nextCursor: p.nextCursor };
}

export async function createCampaign(a: TenantAccess, customerId: string, input: { name: string; inboxIds: string[]; schedule: Schedule }) {
  const inboxIds = [...new Set(input.inboxIds)];
  const found = (await a.manager.query('SELECT id FROM inboxes WHERE id = ANY($1) AND customer_id = $2', [
    inboxIds.filter((i) => isId('inb', i)),
    customerId,
  ])) as { id: string }[];
  const known = new Set(found.map((f) => f.id));
  const unknown = inboxIds.filter((i) => !known.has(i));
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      'validation_failed',
      'invalid body',
      unknown.map((i) => ({ path: `inboxIds.${input.inboxIds.indexOf(i)}`, message: 'no such inbox for this customer', code: 'custom' })),
    );
  }
  await assertWithinLimit(a.manager, 'campaigns');
  const id = newId('cmp');
  const s = input.schedule;
  await a.manager.query(
    `INSERT INTO campaigns (tenant_id, id, customer_id, name, timezone, days, window_start, window_end)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7)`,
    [id, customerId, input.name, s.timezone, s.days, s.start, s.end],
  );
  await a.manager.query(
    "INSERT INTO campaign_inboxes (tenant_id, campaign_id, inbox_id) SELECT current_setting('app.tenant_id')::uuid, $1, unnest($2::text[])",
    [id, inboxIds],
  );
  return getCampaign(a, customerId, id);
}

/**
 * Start, pause, resume or archive: the campaign's row changes here; its
 * enrollments follow through the campaign's fan-out workflow, in batches, so
 * the request takes the same time for ten leads or fifty thousand.
 */
export async function setCampaignStatus(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string, status: 'active' | 'paused' | 'archived') {
  const c = await findCampaign(a, customerId, id, true);
  if (c.status === 'archived') throw new ApiError(409, 'campaign_archived', 'an archived campaign cannot change status');
  if (c.status === status) return campaignJson(a, c);
  if (status === 'active') {
    if (c.sequence_version === null) throw new ApiError(409, 'no_sequence', 'give the campaign a sequence first (POST /api/campaigns/:id/sequence)');
    await a.manager.query("UPDATE campaigns SET status = 'active', started_at = coalesce(started_at, now()), updated_at = now() WHERE id = $1", [c.id]);
  } else {
    await a.manager.query('UPDATE campaigns SET status = $2, updated_at = now() WHERE id = $1', [c.id, status]);
  }
  await fanOutCampaign(a, deps, c.id, status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'archive');
  return getCampaign(a, customerId, c.id);
}

export async function campaignSequence(a: TenantAccess, customerId: string, id: string, wanted?: number) {
  const c = await findCampaign(a, customerId, id);
  const version = wanted ?? c.sequence_version;
  if (version === null) return { version: null, steps: [], versions: [] };
  const versions = (await a.manager.query('SELECT version FROM campaign_sequences WHERE campaign_id = $1 ORDER BY version', [c.id])) as { version: number }[];
  const [snap] = (await a.manager.query(
    'SELECT version, source_sequence_id, steps, created_at FROM campaign_sequences WHERE campaign_id = $1 AND version = $2',
    [c.id, version],
  )) as {
    version: number;
    source_sequence_id: string | null;
    steps: unknown[];
    created_at: Date;
  }[];
  if (!snap) throw notFound('sequence version');
  return {
    version: snap.version,
    sourceSequenceId: snap.source_sequence_id,
    steps: snap.steps,
    createdAt: snap.created_at,
    current: snap.version === c.sequence_version,
    versions: versions.map((v) => v.version),
  };
}

const invalidSequence = (message: string) => new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'sequenceId', message, code: 'custom' }]);

/** A new immutable snapshot from a sequence or inline steps; running enrollments keep the version they started with. */
export async function takeSequenceVersion(a: TenantAccess, customerId: string, id: string, input: { sequenceId: string } | { steps: StepSnapshot[] }) {
  const c = await findCampaign(a, customerId, id, true);
  if (c.status === 'archived') throw new ApiError(409, 'campaign_archived', 'an archived campaign cannot change');
  let steps: StepSnapshot[];
  let source: string | null = null;
  if ('sequenceId' in input) {
    const [seq] = isId('seq', input.sequenceId)
      ? ((await a.manager.query('SELECT id FROM sequences WHERE id = $1 AND customer_id = $2', [input.sequenceId, customerId])) as { id: string }[])
      : [];
    if (!seq) throw invalidSequence('no such sequence for this customer');
    steps = (await a.manager.query('SELECT subject, body, delay_hours AS "delayHours" FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [
      seq.id,
    ])) as StepSnapshot[];
    if (steps.length === 0) throw invalidSequence('the sequence has no steps');
    source = seq.id;
  } else {
    steps = input.steps;
  }
  const snapshot = steps.map((s, i) => ({ position: i + 1, subject: s.subject, body: s.body, delayHours: s.delayHours }));
  const [{ version }] = (await a.manager.query('SELECT coalesce(max(version), 0) + 1 AS version FROM campaign_sequences WHERE campaign_id = $1', [c.id])) as [
    { version: number },
  ];
  await a.manager.query(
    "INSERT INTO campaign_sequences (tenant_id, campaign_id, version, source_sequence_id, steps) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb)",
    [c.id, version, source, JSON.stringify(snapshot)],
  );
  await a.manager.query('UPDATE campaigns SET sequence_version = $2, updated_at = now() WHERE id = $1', [c.id, version]);
  return { version, sourceSequenceId: source, steps: snapshot, current: true };
}

export async function campaignStats(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string) {
  const c = await findCampaign(a, customerId, id);
  const [counts] = (await a.manager.query(
    `SELECT count(*)::int AS enrolled,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'active')::int AS active,
            count(*) FILTER (WHERE status = 'paused')::int AS paused,
            count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'replied')::int AS replied,
            count(*) FILTER (WHERE status = 'bounced')::int AS bounced,
            count(*) FILTER (WHERE status = 'unsubscribed')::int AS unsubscribed
       FROM enrollments WHERE campaign_id = $1`,
    [c.id],
  )) as Record<string, number>[];
  // A send whose outcome is unknown (`uncertain`: the provider may or may not
  // have taken it) is counted apart from what was sent until it is resolved.
  const perStep = (await a.manager.query(
    `SELECT step, count(*) FILTER (WHERE status = 'accepted')::int AS sent, count(*) FILTER (WHERE status = 'uncertain')::int AS uncertain,
            count(*) FILTER (WHERE opens > 0)::int AS opened,
            count(*) FILTER (WHERE status IN ('failed', 'render_error'))::int AS errors
       FROM messages WHERE campaign_id = $1 AND direction = 'outbound' GROUP BY step ORDER BY step`,
    [c.id],
  )) as { step: number; sent: number; uncertain: number; opened: number; errors: number }[];
  const [snap] =
    c.sequence_version === null
      ? []
      : ((await a.manager.query('SELECT jsonb_array_length(steps) AS n FROM campaign_sequences WHERE campaign_id = $1 AND version = $2', [
          c.id,
          c.sequence_version,
        ])) as { n: number }[]);
  const stepCount = Math.max(snap?.n ?? 0, ...perStep.map((s) => s.step));
  const byStep = new Map(perStep.map((s) => [s.step, s]));
  const enrolled = counts!.enrolled ?? 0;
  const steps = Array.from({ length: stepCount }, (_, i) => {
    const s = byStep.get(i + 1);
    return { step: i + 1, sent: s?.sent ?? 0, uncertain: s?.uncertain ?? 0, opened: s?.opened ?? 0, errors: s?.errors ?? 0, of: enrolled };
  });
  const fanout = await runningFanout(deps, a.tenantId, c.id);
  const total = (k: 'sent' | 'uncertain' | 'opened') => steps.reduce((n, s) => n + s[k], 0);
  return { ...counts, sent: total('sent'), uncertain: total('uncertain'), opened: total('opened'), steps, fanout };
}
