// — used by outreach services —
import { type EntityManager } from 'typeorm';
import { newId } from './ids';
import { SEND_COUNTS_JOIN } from './messages';
import { keysetPage, type ListParams, type Page } from './pagination';

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
}

export async function listLeadEnrollments(m: EntityManager, leadId: string): Promise<LeadEnrollmentRow[]> {
  return (await m.query(
    `SELECT e.id, e.campaign_id, c.name AS campaign_name, e.status, e.current_step, e.next_send_at, e.last_error, sc.sent_accepted, sc.sent_uncertain
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
