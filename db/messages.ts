// — used by outreach services —
import { type EntityManager } from 'typeorm';
import { keysetPage, type ListParams, type Page } from './pagination';

/**
 * An enrollment's outbound messages counted by outcome, for a query over
 * `enrollments e`: `sent` is accepted ones only; a send whose outcome is
 * unknown counts apart (`uncertain`) until it is resolved. One scan of the
 * enrollment's messages for both.
 */
export const SEND_COUNTS_JOIN = `CROSS JOIN LATERAL (
  SELECT count(*) FILTER (WHERE m.status = 'accepted')::int AS sent_accepted, count(*) FILTER (WHERE m.status = 'uncertain')::int AS sent_uncertain
    FROM messages m WHERE m.enrollment_id = e.id AND m.direction = 'outbound') sc`;

/**
 * The campaign's outbound messages counted per step. A send whose outcome is
 * unknown (`uncertain`: the provider may or may not have taken it) is counted
 * apart from what was sent until it is resolved.
 */
export async function campaignStepCounts(
  m: EntityManager,
  campaignId: string,
): Promise<{ step: number; sent: number; uncertain: number; opened: number; errors: number }[]> {
  return (await m.query(
    `SELECT step, count(*) FILTER (WHERE status = 'accepted')::int AS sent, count(*) FILTER (WHERE status = 'uncertain')::int AS uncertain,
            count(*) FILTER (WHERE opens > 0)::int AS opened,
            count(*) FILTER (WHERE status IN ('failed', 'render_error'))::int AS errors
       FROM messages WHERE campaign_id = $1 AND direction = 'outbound' GROUP BY step ORDER BY step`,
    [campaignId],
  )) as { step: number; sent: number; uncertain: number; opened: number; errors: number }[];
}

export interface ReplyRow {
  id: string;
  lead_id: string;
  subject: string;
  body: string;
  created_at: Date;
  email: string;
  first_name: string;
  last_name: string;
}

/** One page of the campaign's replies (inbound messages), newest first, with who sent each. */
export async function listCampaignRepliesPage(m: EntityManager, campaignId: string, list: ListParams): Promise<Page<ReplyRow>> {
  return keysetPage<ReplyRow>(m, list, {
    select: 'SELECT m.id, m.lead_id, m.subject, m.body, m.created_at, l.email, l.first_name, l.last_name FROM messages m JOIN leads l ON l.id = m.lead_id',
    key: 'm.id',
    order: 'desc',
    where: [
      ['m.campaign_id = ?', campaignId],
      ["m.direction = 'inbound'", null],
    ],
    search: ['m.subject', 'm.body'],
    idOf: (r) => r.id,
  });
}

/** Every message of one enrollment, both ways, oldest first. */
export async function listEnrollmentMessages(m: EntityManager, enrollmentId: string): Promise<Record<string, unknown>[]> {
  return (await m.query(
    'SELECT id, direction, step, status, subject, body, error, scheduled_at, sent_at, opened_at, opens, created_at FROM messages WHERE enrollment_id = $1 ORDER BY created_at, id',
    [enrollmentId],
  )) as Record<string, unknown>[];
}
