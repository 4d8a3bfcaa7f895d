// A campaign's leads: adding them (one enrollment each; adding leads to a
// completed campaign reopens it), their enrollment state, pausing, resuming or
// unsubscribing one, their replies and message history.
import { isId, newId } from '../../db/ids';
import { keysetPage, type ListParams } from '../../db/pagination';
import { ApiError, notFound } from '../../lib/errors';
import { pauseSignal, resumeSignal, unsubscribeSignal } from '../../workflows/enrollLead.contract';
import { type TenantAccess } from '../context';
import { findCampaign } from './campaigns';
import { type EnrollmentKey, fanOutCampaign, SEND_COUNTS_JOIN, signalAfterCommit, type WorkflowClientDeps } from './enrollments';
import { importLeads, type LeadRecord, suppressAddress } from './leads';

async function findEnrollment(a: TenantAccess, campaignId: string, leadId: string): Promise<EnrollmentKey & { status: string }> {
  if (!isId('lead', leadId)) throw notFound('lead');
  const [row] = (await a.manager.query('SELECT id, campaign_id, lead_id, status FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [
    campaignId,
    leadId,
  ])) as (EnrollmentKey & {
    status: string;
  })[];
  if (!row) throw notFound('lead');
  return row;
}

/** Imports the leads and enrolls them; an active (or completed, now reopened) campaign's fan-out starts them. */
export async function addLeads(
  a: TenantAccess,
  deps: WorkflowClientDeps,
  customerId: string,
  campaignId: string,
  records: LeadRecord[],
  source: 'api' | 'csv',
) {
  const c = await findCampaign(a, customerId, campaignId, true);
  if (c.status === 'archived') throw new ApiError(409, 'campaign_closed', 'leads cannot be added to an archived campaign');
  const result = await importLeads(a, customerId, records, source);
  const enrolled = (await a.manager.query(
    `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id)
     SELECT current_setting('app.tenant_id')::uuid, x.enr, $1, $2, x.lead_id FROM unnest($3::text[], $4::text[]) AS x(lead_id, enr)
     ON CONFLICT (tenant_id, campaign_id, lead_id) DO NOTHING RETURNING lead_id`,
    [customerId, c.id, result.leadIds, result.leadIds.map(() => newId('enr'))],
  )) as { lead_id: string }[];
  if (enrolled.length > 0 && (c.status === 'active' || c.status === 'completed')) {
    if (c.status === 'completed') await a.manager.query("UPDATE campaigns SET status = 'active', updated_at = now() WHERE id = $1", [c.id]);
    await fanOutCampaign(a, deps, c.id, 'start');
  }
  const alreadyInCampaign = result.leadIds.length - enrolled.length;
  return { added: enrolled.length, skipped: result.skipped + alreadyInCampaign, skippedReasons: { ...result.reasons, alreadyInCampaign } };
}

export async function listCampaignLeads(a: TenantAccess, customerId: string, campaignId: string, list: ListParams & { status?: string }) {
  const c = await findCampaign(a, customerId, campaignId);
  const p = await keysetPage<Record<string, unknown>>(a.manager, list, {
    // `sent` and `uncertain` are counted from the messages (SEND_COUNTS_JOIN).
    select: `SELECT e.id AS enrollment_id, e.status, e.current_step, e.next_send_at, e.last_error, e.sequence_version,
                    sc.sent_accepted, sc.sent_uncertain,
                    l.id, l.email, l.first_name, l.last_name, l.company, l.status AS lead_status
               FROM enrollments e JOIN leads l ON l.id = e.lead_id ${SEND_COUNTS_JOIN}`,
    key: 'e.id',
    where: [
      ['e.campaign_id = ?', c.id],
      ['e.status = ?', list.status],
    ],
    search: { haystack: 'l.search' },
    idOf: (r) => String(r.enrollment_id),
  });
  return {
    data: p.data.map((r) => ({
      leadId: r.id,
      enrollmentId: r.enrollment_id,
      email: r.email,
      firstName: r.first_name,
      lastName: r.last_name,
      company: r.company,
      leadStatus: r.lead_status,
      status: r.status,
      step: r.current_step,
      sent: r.sent_accepted,
      uncertain: r.sent_uncertain,
      nextSendAt: r.next_send_at,
      sequenceVersion: r.sequence_version,
      lastError: r.last_error,
    })),
    nextCursor: p.nextCursor,
  };
}

/** Pauses or resumes one lead's enrollment (a no-op when it already is). */
export async function setLeadRunning(
  a: TenantAccess,
  deps: WorkflowClientDeps,
  customerId: string,
  campaignId: string,
  leadId: string,
  action: 'pause' | 'resume',
) {
  const c = await findCampaign(a, customerId, campaignId);
  const e = await findEnrollment(a, c.id, leadId);
  const [from, to] = action === 'pause' ? ['active', 'paused'] : ['paused', 'active'];
  if (e.status !== from && e.status !== to) throw new ApiError(409, 'enrollment_not_running', `this lead's enrollment is ${e.status}`);
  if (e.status === from) {
    await a.manager.query(
      "UPDATE enrollments SET status = $2, last_error = CASE WHEN $2 = 'active' THEN NULL ELSE last_error END, updated_at = now() WHERE id = $1",
      [e.id, to],
    );
    signalAfterCommit(a, deps, [e], action === 'pause' ? pauseSignal : resumeSignal);
  }
  return { leadId: e.lead_id, status: to };
}

export async function unsubscribeLead(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, campaignId: string, leadId: string) {
  const c = await findCampaign(a, customerId, campaignId);
  const e = await findEnrollment(a, c.id, leadId);
  const [lead] = (await a.manager.query('SELECT email FROM leads WHERE id = $1', [e.lead_id])) as { email: string }[];
  const stopped = await suppressAddress(a.manager, lead!.email, 'unsubscribed');
  signalAfterCommit(a, deps, stopped, unsubscribeSignal);
  return { leadId: e.lead_id, status: 'unsubscribed', enrollmentsStopped: stopped.length };
}

export async function campaignReplies(a: TenantAccess, customerId: string, campaignId: string, list: ListParams) {
  const c = await findCampaign(a, customerId, campaignId);
  const p = await keysetPage<{
    id: string;
    lead_id: string;
    subject: string;
    body: string;
    created_at: Date;
    email: string;
    first_name: string;
    last_name: string;
  }>(a.manager, list, {
    select: 'SELECT m.id, m.lead_id, m.subject, m.body, m.created_at, l.email, l.first_name, l.last_name FROM messages m JOIN leads l ON l.id = m.lead_id',
    key: 'm.id',
    order: 'desc',
    where: [
      ['m.campaign_id = ?', c.id],
      ["m.direction = 'inbound'", null],
    ],
    search: ['m.subject', 'm.body'],
    idOf: (r) => r.id,
  });
  return {
    data: p.data.map((r) => ({
      id: r.id,
      leadId: r.lead_id,
      email: r.email,
      name: `${r.first_name} ${r.last_name}`.trim(),
      subject: r.subject,
      body: r.body,
      receivedAt: r.created_at,
    })),
    nextCursor: p.nextCursor,
  };
}

export async function leadMessages(a: TenantAccess, customerId: string, campaignId: string, leadId: string) {
  const c = await findCampaign(a, customerId, campaignId);
  const e = await findEnrollment(a, c.id, leadId);
  const rows = (await a.manager.query(
    'SELECT id, direction, step, status, subject, body, error, scheduled_at, sent_at, opened_at, opens, created_at FROM messages WHERE enrollment_id = $1 ORDER BY created_at, id',
    [e.id],
  )) as Record<string, unknown>[];
  return {
    data: rows.map((r) => ({
      id: r.id,
      direction: r.direction,
      step: r.step,
      status: r.status,
      subject: r.subject,
      body: r.body,
      error: r.error,
      scheduledAt: r.scheduled_at,
      sentAt: r.sent_at,
      openedAt: r.opened_at,
      opens: r.opens,
      createdAt: r.created_at,
    })),
  };
}
