// Campaigns: a customer's campaign with its inboxes and send schedule, its
// versioned sequence snapshots, its status (fanned out to every enrollment)
// and its stats. A campaign of another customer is the same 404 as one that
// does not exist. The statements are db/campaigns.ts (and the enrollment
// counts of db/enrollments.ts; the outcomes are the event stream's).
import { assertWithinLimit } from '../billing/limits';
import * as campaigns from '../../db/campaigns';
import { type CampaignRow } from '../../db/campaigns';
import { campaignEnrollmentCounts } from '../../db/enrollments';
import { isId, newId } from '../../db/ids';
import { findCustomerInboxIds } from '../../db/inboxes';
import { type ListParams } from '../../db/pagination';
import { findCustomerSequenceId, sequenceStepSnapshots, type StepSnapshot } from '../../db/sequences';
import { ApiError, notFound } from '../../lib/errors';
import { campaignFunnel } from '../analytics/charts';
import { type TenantAccess } from '../context';
import { fanOutCampaign, runningFanout, type WorkflowClientDeps } from './enrollments';

export interface Schedule {
  timezone: string;
  days: number[];
  start: string;
  end: string;
}

export async function findCampaign(a: TenantAccess, customerId: string, id: string, lock = false): Promise<CampaignRow> {
  if (!isId('cmp', id)) throw notFound('campaign');
  const row = await campaigns.findCampaign(a.manager, customerId, id, lock);
  if (!row) throw notFound('campaign');
  return row;
}

async function campaignJson(a: TenantAccess, c: CampaignRow) {
  const inboxIds = await campaigns.listCampaignInboxIds(a.manager, c.id);
  return {
    id: c.id,
    customerId: c.customer_id,
    name: c.name,
    status: c.status,
    inboxIds,
    schedule: { timezone: c.timezone, days: c.days.map(Number), start: c.window_start, end: c.window_end },
    sequenceVersion: c.sequence_version,
    startedAt: c.started_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
    tracking: c.tracking,
  };
}

export async function getCampaign(a: TenantAccess, customerId: string, id: string) {
  return campaignJson(a, await findCampaign(a, customerId, id));
}

export async function listCampaigns(a: TenantAccess, customerId: string, list: ListParams & { status?: string }) {
  const p = await campaigns.listCampaignsPage(a.manager, customerId, list);
  return { data: await Promise.all(p.data.map((c) => campaignJson(a, c))), nextCursor: p.nextCursor };
}

export async function createCampaign(a: TenantAccess, customerId: string, input: { name: string; inboxIds: string[]; schedule: Schedule; tracking?: boolean }) {
  const inboxIds = [...new Set(input.inboxIds)];
  const wellFormed = inboxIds.filter((i) => isId('inb', i));
  const known = new Set(await findCustomerInboxIds(a.manager, customerId, wellFormed));
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
  await campaigns.insertCampaign(a.manager, {
    id,
    customerId,
    name: input.name,
    timezone: s.timezone,
    days: s.days,
    start: s.start,
    end: s.end,
    inboxIds,
    tracking: input.tracking,
  });
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
    if (c.sequence_version === null) throw new ApiError(409, 'no_sequence', 'choose a sequence for this campaign before starting it');
    await campaigns.activateCampaign(a.manager, c.id);
  } else {
    await campaigns.setCampaignStatus(a.manager, c.id, status);
  }
  await fanOutCampaign(a, deps, c.id, status === 'active' ? 'resume' : status === 'paused' ? 'pause' : 'archive');
  return getCampaign(a, customerId, c.id);
}

export async function campaignSequence(a: TenantAccess, customerId: string, id: string, wanted?: number) {
  const c = await findCampaign(a, customerId, id);
  const version = wanted ?? c.sequence_version;
  if (version === null) return { version: null, steps: [], versions: [] };
  const versions = await campaigns.listSequenceVersions(a.manager, c.id);
  const snap = await campaigns.findSequenceSnapshot(a.manager, c.id, version);
  if (!snap) throw notFound('sequence version');
  return {
    version: snap.version,
    sourceSequenceId: snap.source_sequence_id,
    steps: snap.steps,
    createdAt: snap.created_at,
    current: snap.version === c.sequence_version,
    versions,
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
    const seq = isId('seq', input.sequenceId) ? await findCustomerSequenceId(a.manager, customerId, input.sequenceId) : undefined;
    if (!seq) throw invalidSequence('no such sequence for this customer');
    steps = await sequenceStepSnapshots(a.manager, seq);
    if (steps.length === 0) throw invalidSequence('the sequence has no steps');
    source = seq;
  } else {
    steps = input.steps;
  }
  const snapshot = steps.map((s, i) => ({ position: i + 1, subject: s.subject, body: s.body, delayHours: s.delayHours }));
  const version = await campaigns.insertSequenceSnapshot(a.manager, c.id, source, snapshot);
  return { version, sourceSequenceId: source, steps: snapshot, current: true };
}

export async function campaignStats(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string) {
  const c = await findCampaign(a, customerId, id);
  const counts = await campaignEnrollmentCounts(a.manager, c.id);
  // Every outcome is counted from the event stream (docs/analytics.md,
  // "Stats and charts"); where enrollments stand in their run is their own.
  const { tracking, steps, totals } = await campaignFunnel(a, c);
  const enrolled = counts.enrolled ?? 0;
  const fanout = await runningFanout(deps, a.tenantId, c.id);
  return {
    enrolled,
    pending: counts.pending ?? 0,
    active: counts.active ?? 0,
    paused: counts.paused ?? 0,
    completed: counts.completed ?? 0,
    replied: totals.replied,
    bounced: totals.bounced,
    unsubscribed: totals.unsubscribed,
    sent: totals.sent,
    uncertain: totals.uncertain,
    opened: totals.opened,
    steps: steps.map((s) => ({ ...s, of: enrolled })),
    fanout,
    clicked: totals.clicked,
    tracking,
  };
}

/** Changes the campaign's settings (open and click tracking); an archived campaign keeps its own. */
export async function updateCampaign(a: TenantAccess, customerId: string, id: string, input: { tracking?: boolean }) {
  const c = await findCampaign(a, customerId, id, true);
  if (c.status === 'archived') throw new ApiError(409, 'campaign_archived', 'an archived campaign cannot change');
  if (input.tracking !== undefined && input.tracking !== c.tracking) await campaigns.setCampaignTracking(a.manager, c.id, input.tracking);
  return getCampaign(a, customerId, c.id);
}
