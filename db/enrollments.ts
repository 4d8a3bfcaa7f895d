// Enrollment rows: one lead in one campaign, the mirror of its enrollLead
// workflow that lists, stats and the console read. The workflow owns the
// process; these statements move the row with it, and the campaign fan-out
// moves a campaign's rows a batch at a time.
import { type EntityManager } from 'typeorm';
import { newId } from './ids';
import { SEND_COUNTS_JOIN } from './messages';
import { keysetPage, type ListParams, type Page } from './pagination';

/** What one step's send needs, read in one statement: the enrollment, its lead, the step of its pinned sequence, and whether the address is suppressed. */
export interface SendContextRow {
  id: string;
  customer_id: string;
  campaign_id: string;
  lead_id: string;
  sequence_version: number | null;
  inbox_id: string | null;
  status: string;
  /** Null when the lead is gone (the join found none). */
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  fields: Record<string, unknown> | null;
  /** Null when the pinned sequence has no such step. */
  step: { position: number; subject: string; body: string } | null;
  suppressed: boolean;
  /** The campaign's open and click tracking. */
  tracking: boolean;
}

/** The enrollment's send context for one step (undefined when the row is gone). */
export async function readSendContext(m: EntityManager, enrollmentId: string, step: number): Promise<SendContextRow | undefined> {
  const [row] = (await m.query(
    `SELECT e.id, e.customer_id, e.campaign_id, e.lead_id, e.sequence_version, e.inbox_id, e.status,
            l.email, l.first_name, l.last_name, l.company, l.fields,
            (SELECT st FROM jsonb_array_elements(s.steps) st WHERE (st->>'position')::int = $2 LIMIT 1) AS step,
            EXISTS (SELECT 1 FROM suppressions x WHERE x.email = l.email) AS suppressed,
            coalesce((SELECT c.tracking FROM campaigns c WHERE c.id = e.campaign_id), false) AS tracking
       FROM enrollments e
       LEFT JOIN leads l ON l.id = e.lead_id
       LEFT JOIN campaign_sequences s ON s.campaign_id = e.campaign_id AND s.version = e.sequence_version
      WHERE e.id = $1`,
    [enrollmentId, step],
  )) as SendContextRow[];
  return row;
}

/** The enrollment's pinned plan as its workflow loads it: status, the campaign's schedule, the pinned version's steps. */
export interface EnrollmentPlanRow {
  status: string;
  sequence_version: number | null;
  campaign_status: string;
  timezone: string;
  days: number[];
  window_start: string;
  window_end: string;
  steps: { position: number; delayHours: number }[] | null;
}

export async function readEnrollmentPlan(m: EntityManager, enrollmentId: string): Promise<EnrollmentPlanRow | undefined> {
  const [row] = (await m.query(
    `SELECT e.status, e.sequence_version, c.status AS campaign_status, c.timezone, c.days, c.window_start, c.window_end, s.steps
       FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id
       LEFT JOIN campaign_sequences s ON s.campaign_id = e.campaign_id AND s.version = e.sequence_version
      WHERE e.id = $1`,
    [enrollmentId],
  )) as EnrollmentPlanRow[];
  return row;
}

/** Marks the enrollment as waiting for the tenant's quota (or a lifted restriction); the billing workflow wakes it. */
export async function markEnrollmentWaiting(m: EntityManager, enrollmentId: string, waitingFor: 'quota' | 'restricted'): Promise<void> {
  await m.query('UPDATE enrollments SET waiting_for = $2, updated_at = now() WHERE id = $1', [enrollmentId, waitingFor]);
}

/** Records why the enrollment's step could not be sent (shown on the row until a send succeeds). */
export async function setEnrollmentError(m: EntityManager, enrollmentId: string, error: string): Promise<void> {
  await m.query('UPDATE enrollments SET last_error = $2, updated_at = now() WHERE id = $1', [enrollmentId, error]);
}

/** Counts a send of `step` on the enrollment whose outcome is not known (it is not repeated). */
export async function countUncertainSend(m: EntityManager, enrollmentId: string, step: number): Promise<void> {
  await m.query('UPDATE enrollments SET sent = sent + 1, current_step = greatest(current_step, $2), updated_at = now() WHERE id = $1', [enrollmentId, step]);
}

/**
 * Moves the enrollment's row to the workflow's state. A pending row is left
 * alone: its fan-out batch moves it (a workflow waiting on its first step can
 * be paused before that, by hand). A row in one of `ended` stays ended.
 */
export async function moveEnrollment(
  m: EntityManager,
  enrollmentId: string,
  to: { state: string; step: number; nextSendAt: number | null },
  ended: readonly string[],
): Promise<void> {
  await m.query(
    `UPDATE enrollments SET status = $2, current_step = greatest(current_step, $3), next_send_at = $4, updated_at = now()
      WHERE id = $1 AND status <> 'pending' AND (status <> ALL($5::text[]) OR status = $2)`,
    [enrollmentId, to.state, to.step, to.nextSendAt === null ? null : new Date(to.nextSendAt), ended],
  );
}

/** A row the fan-out moved, and the status it had. */
export interface FanoutMovedRow {
  id: string;
  lead_id: string;
  sequence_version: number | null;
  was: string;
}

/**
 * Locks and moves the campaign's next batch of enrollments in `from` (by id,
 * after `after`) to `to`. A pending row that starts pins `sequenceVersion`,
 * and with `firstSendAt` records its first send (the first step waits).
 */
export async function moveFanoutBatch(
  m: EntityManager,
  batch: { campaignId: string; from: readonly string[]; after: string; limit: number; to: string; sequenceVersion: number | null; firstSendAt: Date | null },
): Promise<FanoutMovedRow[]> {
  const [moved] = (await m.query(
    `WITH picked AS (
       SELECT id, status AS was FROM enrollments
        WHERE campaign_id = $1 AND status = ANY($2::text[]) AND id > $3
        ORDER BY id LIMIT $4 FOR UPDATE)
     UPDATE enrollments e
        SET status = $5,
            sequence_version = CASE WHEN picked.was = 'pending' AND $5 = 'active' THEN $6::int ELSE e.sequence_version END,
            current_step = CASE WHEN picked.was = 'pending' AND $7::timestamptz IS NOT NULL THEN greatest(e.current_step, 1) ELSE e.current_step END,
            next_send_at = CASE WHEN picked.was = 'pending' AND $7::timestamptz IS NOT NULL THEN $7::timestamptz ELSE e.next_send_at END,
            updated_at = now()
       FROM picked WHERE e.id = picked.id
     RETURNING e.id, e.lead_id, e.sequence_version, picked.was`,
    [batch.campaignId, batch.from, batch.after, batch.limit, batch.to, batch.sequenceVersion, batch.firstSendAt],
  )) as [FanoutMovedRow[], number];
  return moved;
}

/** How many of the campaign's enrollments in `statuses` come after `after` (the fan-out's batches still to move). */
export async function countEnrollmentsAfter(m: EntityManager, campaignId: string, statuses: readonly string[], after: string): Promise<number> {
  const [{ remaining }] = (await m.query('SELECT count(*)::int AS remaining FROM enrollments WHERE campaign_id = $1 AND status = ANY($2::text[]) AND id > $3', [
    campaignId,
    statuses,
    after,
  ])) as [{ remaining: number }];
  return remaining;
}

/** Whether the campaign has any enrollment in `statuses`. */
export async function hasEnrollmentsIn(m: EntityManager, campaignId: string, statuses: readonly string[]): Promise<boolean> {
  const [any] = (await m.query('SELECT 1 FROM enrollments WHERE campaign_id = $1 AND status = ANY($2::text[]) LIMIT 1', [campaignId, statuses])) as unknown[];
  return any !== undefined;
}

/** A condition on `leads` (keysetPage's `?`): the lead is enrolled in the campaign. */
export const LEADS_IN_CAMPAIGN = 'id IN (SELECT lead_id FROM enrollments WHERE campaign_id = ?)';

/** The lead's enrollment in the campaign, or undefined. */
export async function findCampaignEnrollment(
  m: EntityManager,
  campaignId: string,
  leadId: string,
): Promise<{ id: string; campaign_id: string; lead_id: string; status: string } | undefined> {
  const [row] = (await m.query('SELECT id, campaign_id, lead_id, status FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [campaignId, leadId])) as {
    id: string;
    campaign_id: string;
    lead_id: string;
    status: string;
  }[];
  return row;
}

/** Enrolls the leads in the campaign (pending); a lead already in it is left alone. Answers the leads enrolled now. */
export async function enrollLeads(m: EntityManager, customerId: string, campaignId: string, leadIds: string[]): Promise<string[]> {
  const enrolled = (await m.query(
    `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id)
     SELECT current_setting('app.tenant_id')::uuid, x.enr, $1, $2, x.lead_id FROM unnest($3::text[], $4::text[]) AS x(lead_id, enr)
     ON CONFLICT (tenant_id, campaign_id, lead_id) DO NOTHING RETURNING lead_id`,
    [customerId, campaignId, leadIds, leadIds.map(() => newId('enr'))],
  )) as { lead_id: string }[];
  return enrolled.map((e) => e.lead_id);
}

/** A campaign's enrollment with its lead and its sends counted (SEND_COUNTS_JOIN). */
export interface CampaignLeadRow {
  enrollment_id: string;
  status: string;
  current_step: number;
  next_send_at: Date | null;
  last_error: string | null;
  sequence_version: number | null;
  sent_accepted: number;
  sent_uncertain: number;
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  lead_status: string;
}

/** One page of the campaign's enrollments with their leads, optionally of one status; a search looks in the lead. */
export async function listCampaignLeadsPage(m: EntityManager, campaignId: string, list: ListParams & { status?: string }): Promise<Page<CampaignLeadRow>> {
  return keysetPage<CampaignLeadRow>(m, list, {
    select: `SELECT e.id AS enrollment_id, e.status, e.current_step, e.next_send_at, e.last_error, e.sequence_version,
                    sc.sent_accepted, sc.sent_uncertain,
                    l.id, l.email, l.first_name, l.last_name, l.company, l.status AS lead_status
               FROM enrollments e JOIN leads l ON l.id = e.lead_id ${SEND_COUNTS_JOIN}`,
    key: 'e.id',
    where: [
      ['e.campaign_id = ?', campaignId],
      ['e.status = ?', list.status],
    ],
    search: { haystack: 'l.search' },
    idOf: (r) => String(r.enrollment_id),
  });
}

/** Pauses (`paused`) or resumes (`active`, its last error cleared) one enrollment. */
export async function setEnrollmentRunning(m: EntityManager, id: string, status: 'active' | 'paused'): Promise<void> {
  await m.query("UPDATE enrollments SET status = $2, last_error = CASE WHEN $2 = 'active' THEN NULL ELSE last_error END, updated_at = now() WHERE id = $1", [
    id,
    status,
  ]);
}

/** The campaign's enrollments counted by status. */
export async function campaignEnrollmentCounts(m: EntityManager, campaignId: string): Promise<Record<string, number>> {
  const [counts] = (await m.query(
    `SELECT count(*)::int AS enrolled,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'active')::int AS active,
            count(*) FILTER (WHERE status = 'paused')::int AS paused,
            count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'replied')::int AS replied,
            count(*) FILTER (WHERE status = 'bounced')::int AS bounced,
            count(*) FILTER (WHERE status = 'unsubscribed')::int AS unsubscribed
       FROM enrollments WHERE campaign_id = $1`,
    [campaignId],
  )) as Record<string, number>[];
  return counts!;
}

/** A lead's enrollment with its campaign's name and its sends counted (SEND_COUNTS_JOIN). */
export interface LeadEnrollmentRow {
  id: string;
  campaign_id: string;
  campaign_name: string;
  status: string;
  current_step: number;
  next_send_at: Date | null;
  last_error: string | null;
  sent_accepted: number;
  sent_uncertain: number;
  created_at: Date;
  updated_at: Date;
}

export async function listLeadEnrollments(m: EntityManager, leadId: string): Promise<LeadEnrollmentRow[]> {
  return (await m.query(
    `SELECT e.id, e.campaign_id, c.name AS campaign_name, e.status, e.current_step, e.next_send_at, e.last_error, sc.sent_accepted, sc.sent_uncertain,
            e.created_at, e.updated_at
       FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id ${SEND_COUNTS_JOIN} WHERE e.lead_id = $1 ORDER BY e.id`,
    [leadId],
  )) as LeadEnrollmentRow[];
}

/** The lead's started enrollments that still run (active or paused): those a workflow has to hear about. */
export async function runningEnrollmentsOfLead(m: EntityManager, leadId: string): Promise<{ id: string; campaign_id: string; lead_id: string }[]> {
  return (await m.query(
    "SELECT id, campaign_id, lead_id FROM enrollments WHERE lead_id = $1 AND status IN ('active', 'paused') AND sequence_version IS NOT NULL",
    [leadId],
  )) as { id: string; campaign_id: string; lead_id: string }[];
}

/** The tenant's enrollments that wait for sends (quota or restriction), in id order. */
export function listQuotaWaiters(m: EntityManager): Promise<{ campaign_id: string; lead_id: string }[]> {
  return m.query('SELECT campaign_id, lead_id FROM enrollments WHERE waiting_for IS NOT NULL ORDER BY id') as Promise<
    { campaign_id: string; lead_id: string }[]
  >;
}

/** Resumes the paused enrollments among `ids` (their last error cleared); answers those it moved. */
export async function resumePausedEnrollments(m: EntityManager, ids: string[]): Promise<{ id: string; campaign_id: string; lead_id: string }[]> {
  const [rows] = (await m.query(
    "UPDATE enrollments SET status = 'active', last_error = NULL, updated_at = now() WHERE id = ANY($1::text[]) AND status = 'paused' RETURNING id, campaign_id, lead_id",
    [ids],
  )) as [{ id: string; campaign_id: string; lead_id: string }[], number];
  return rows;
}

/** The campaign's started enrollments that still run (active or paused), counted by the sequence version they pin. */
export async function runningVersionCounts(m: EntityManager, campaignId: string): Promise<{ version: number; leads: number }[]> {
  return (await m.query(
    `SELECT sequence_version AS version, count(*)::int AS leads FROM enrollments
      WHERE campaign_id = $1 AND status IN ('active', 'paused') AND sequence_version IS NOT NULL
      GROUP BY sequence_version ORDER BY sequence_version`,
    [campaignId],
  )) as { version: number; leads: number }[];
}

/**
 * Pins the campaign's running enrollments (active or paused) that run an
 * older version to `version`; answers the rows moved, whose workflows are to
 * hear of it. Steps already sent keep their messages: a send is keyed by
 * (enrollment, position).
 */
export async function moveRunningToVersion(
  m: EntityManager,
  campaignId: string,
  version: number,
): Promise<{ id: string; campaign_id: string; lead_id: string }[]> {
  // An UPDATE … RETURNING answers [rows, count].
  const [moved] = (await m.query(
    `UPDATE enrollments SET sequence_version = $2, updated_at = now()
      WHERE campaign_id = $1 AND status IN ('active', 'paused') AND sequence_version < $2
      RETURNING id, campaign_id, lead_id`,
    [campaignId, version],
  )) as [{ id: string; campaign_id: string; lead_id: string }[], number];
  return moved;
}
