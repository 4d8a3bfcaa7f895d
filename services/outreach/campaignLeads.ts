// A campaign's leads: adding them (one enrollment each; adding leads to a
// completed campaign reopens it), their enrollment state, pausing, resuming or
// unsubscribing one, their replies and message history. The statements are
// db/enrollments.ts and db/messages.ts.
import { reopenCampaign } from '../../db/campaigns';
import { enrollLeads, findCampaignEnrollment, listCampaignLeadsPage, setEnrollmentRunning } from '../../db/enrollments';
import { isId } from '../../db/ids';
import { leadEmail } from '../../db/leads';
import { listCampaignRepliesPage, listEnrollmentMessages } from '../../db/messages';
import { type ListParams } from '../../db/pagination';
import { ApiError, notFound } from '../../lib/errors';
import { pauseSignal, resumeSignal, unsubscribeSignal } from '../../workflows/enrollLead.contract';
import { type TenantAccess } from '../context';
import { findCampaign } from './campaigns';
import { type EnrollmentKey, fanOutCampaign, signalAfterCommit, type WorkflowClientDeps } from './enrollments';
import { importLeads, type LeadRecord, suppressAddress } from './leads';

async function findEnrollment(a: TenantAccess, campaignId: string, leadId: string): Promise<EnrollmentKey & { status: string }> {
  if (!isId('lead', leadId)) throw notFound('lead');
  const row = await findCampaignEnrollment(a.manager, campaignId, leadId);
  if (!row) throw notFound('lead');
  return row;
}

/** Imports the leads (with `replace`, updating those already present) and enrolls them; an active (or completed, now reopened) campaign's fan-out starts them. */
export async function addLeads(
  a: TenantAccess,
  deps: WorkflowClientDeps,
  customerId: string,
  campaignId: string,
  records: LeadRecord[],
  source: 'api' | 'csv',
  replace = false,
) {
  const c = await findCampaign(a, customerId, campaignId, true);
  if (c.status === 'archived') throw new ApiError(409, 'campaign_closed', 'leads cannot be added to an archived campaign');
  const result = await importLeads(a, customerId, records, source, replace);
  const enrolled = await enrollLeads(a.manager, customerId, c.id, result.leadIds);
  if (enrolled.length > 0 && (c.status === 'active' || c.status === 'completed')) {
    if (c.status === 'completed') await reopenCampaign(a.manager, c.id);
    await fanOutCampaign(a, deps, c.id, 'start');
  }
  const alreadyInCampaign = result.leadIds.length - enrolled.length;
  return {
    added: enrolled.length,
    skipped: result.skipped + alreadyInCampaign,
    skippedReasons: { ...result.reasons, alreadyInCampaign },
    updated: result.updated,
    unchanged: result.unchanged,
  };
}

export async function listCampaignLeads(a: TenantAccess, customerId: string, campaignId: string, list: ListParams & { status?: string }) {
  const c = await findCampaign(a, customerId, campaignId);
  const p = await listCampaignLeadsPage(a.manager, c.id, list);
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
  const [from, to] = action === 'pause' ? (['active', 'paused'] as const) : (['paused', 'active'] as const);
  if (e.status !== from && e.status !== to) throw new ApiError(409, 'enrollment_not_running', `this lead's enrollment is ${e.status}`);
  if (e.status === from) {
    await setEnrollmentRunning(a.manager, e.id, to);
    signalAfterCommit(a, deps, [e], action === 'pause' ? pauseSignal : resumeSignal);
  }
  return { leadId: e.lead_id, status: to };
}

export async function unsubscribeLead(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, campaignId: string, leadId: string) {
  const c = await findCampaign(a, customerId, campaignId);
  const e = await findEnrollment(a, c.id, leadId);
  const stopped = await suppressAddress(a.manager, await leadEmail(a.manager, e.lead_id), 'unsubscribed');
  signalAfterCommit(a, deps, stopped, unsubscribeSignal);
  return { leadId: e.lead_id, status: 'unsubscribed', enrollmentsStopped: stopped.length };
}

export async function campaignReplies(a: TenantAccess, customerId: string, campaignId: string, list: ListParams) {
  const c = await findCampaign(a, customerId, campaignId);
  const p = await listCampaignRepliesPage(a.manager, c.id, list);
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
  const rows = await listEnrollmentMessages(a.manager, e.id);
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
