// What keeps a campaign from sending to some of its leads: the leads that
// lack a value a step of their sequence version uses (shown before the
// campaign starts, and while it runs), and the bulk "fix and resume" of the
// enrollments paused at such a step (activities/enrollLead.ts pauses them
// and records why). Resuming signals each enrollment's workflow, which
// sends the step again. The statements are db/leads.ts (campaignLeadGaps),
// db/enrollments.ts and db/campaigns.ts.
import { listSequenceSnapshotTexts } from '../../db/campaigns';
import { findCampaignEnrollment, resumePausedEnrollments } from '../../db/enrollments';
import { isId } from '../../db/ids';
import { campaignLeadGaps, findLead, type LeadGapRow, type LeadRow, updateLead } from '../../db/leads';
import { ApiError } from '../../lib/errors';
import { templateVariables } from '../../lib/templates';
import { resumeSignal } from '../../workflows/enrollLead.contract';
import { type TenantAccess } from '../context';
import { findCampaign } from './campaigns';
import { signalAfterCommit, type WorkflowClientDeps } from './enrollments';

/** Enrollments that may still send. */
const RUNNING = ['pending', 'active', 'paused'] as const;
/** How many lacking leads one answer lists (the count says how many there are). */
const LIST_LIMIT = 100;
/** How many paused enrollments one request resumes; a larger campaign takes another submit. */
const RESUME_LIMIT = 1000;

export interface LeadFix {
  leadId: string;
  firstName?: string;
  lastName?: string;
  company?: string;
  fields?: Record<string, string>;
}

/** The variables each of the campaign's sequence versions uses. */
async function variablesByVersion(a: TenantAccess, campaignId: string): Promise<Record<number, string[]>> {
  const snapshots = await listSequenceSnapshotTexts(a.manager, campaignId);
  return Object.fromEntries(snapshots.map((s) => [s.version, templateVariables(s.steps.map((st) => `${st.subject}\n${st.body}`).join('\n'))]));
}

const gapJson = (r: LeadGapRow) => ({
  leadId: r.id,
  email: r.email,
  firstName: r.first_name,
  lastName: r.last_name,
  company: r.company,
  status: r.status,
  sequenceVersion: r.sequence_version,
  missing: r.missing,
  lastError: r.last_error,
});

/** The leads that lack a value their sequence version uses, and how many enrollments a render error paused. */
export async function campaignReadiness(a: TenantAccess, customerId: string, id: string, status?: (typeof RUNNING)[number]) {
  const c = await findCampaign(a, customerId, id);
  const variables = await variablesByVersion(a, c.id);
  const plan = { variables, currentVersion: c.sequence_version };
  const statuses = status ? [status] : RUNNING;
  const rows = await campaignLeadGaps(a.manager, c.id, plan, { statuses, lackingOnly: true, erroredOnly: false, limit: LIST_LIMIT });
  const [paused] = await campaignLeadGaps(a.manager, c.id, plan, { statuses: ['paused'], lackingOnly: false, erroredOnly: true, limit: 1 });
  return {
    sequenceVersion: c.sequence_version,
    variables: c.sequence_version === null ? [] : (variables[c.sequence_version] ?? []),
    lacking: rows[0]?.total ?? 0,
    pausedByError: paused?.total ?? 0,
    leads: rows.map(gapJson),
  };
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** The fix's non-blank values over the lead's own (a blank input fills nothing in). */
function fixed(lead: LeadRow, fix: LeadFix) {
  return {
    firstName: given(fix.firstName) ? fix.firstName : lead.first_name,
    lastName: given(fix.lastName) ? fix.lastName : lead.last_name,
    company: given(fix.company) ? fix.company : lead.company,
    fields: { ...lead.fields, ...Object.fromEntries(Object.entries(fix.fields ?? {}).filter(([, v]) => given(v))) },
  };
}

/**
 * Saves the values given for the campaign's leads, then resumes every
 * enrollment a render error paused whose lead now has every value its
 * sequence version uses (while the campaign is active: a paused campaign's
 * Resume resumes them). A lead that is not in the campaign refuses the whole
 * request, and nothing is written.
 */
export async function fixAndResume(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string, fixes: LeadFix[]) {
  const c = await findCampaign(a, customerId, id);
  const byLead = new Map<string, LeadFix>();
  const errors: { path: string; message: string; code: string }[] = [];
  const leads: LeadRow[] = [];
  for (const [i, fix] of fixes.entries()) {
    const known = byLead.get(fix.leadId);
    if (known) {
      byLead.set(fix.leadId, { ...known, ...fix, fields: { ...known.fields, ...fix.fields } });
      continue;
    }
    const lead = isId('lead', fix.leadId) ? await findLead(a.manager, customerId, fix.leadId) : undefined;
    if (!lead || !(await findCampaignEnrollment(a.manager, c.id, lead.id))) {
      errors.push({ path: `leads.${i}.leadId`, message: 'this lead is not in the campaign', code: 'custom' });
      continue;
    }
    byLead.set(fix.leadId, fix);
    leads.push(lead);
  }
  if (errors.length > 0) throw new ApiError(400, 'validation_failed', 'some leads are not in this campaign; nothing was changed', errors);

  let updated = 0;
  for (const lead of leads) {
    const next = fixed(lead, byLead.get(lead.id)!);
    const changed =
      next.firstName !== lead.first_name ||
      next.lastName !== lead.last_name ||
      next.company !== lead.company ||
      JSON.stringify(next.fields) !== JSON.stringify(lead.fields);
    if (!changed) continue;
    await updateLead(a.manager, lead.id, next);
    updated += 1;
  }

  const plan = { variables: await variablesByVersion(a, c.id), currentVersion: c.sequence_version };
  const paused = await campaignLeadGaps(a.manager, c.id, plan, { statuses: ['paused'], lackingOnly: false, erroredOnly: true, limit: RESUME_LIMIT });
  const ready = c.status === 'active' ? paused.filter((r) => r.missing.length === 0) : [];
  const resumed = await resumePausedEnrollments(
    a.manager,
    ready.map((r) => r.enrollment_id),
  );
  signalAfterCommit(a, deps, resumed, resumeSignal);
  const still = paused.filter((r) => r.missing.length > 0);
  return { updated, resumed: resumed.length, stillMissing: still.length, leads: still.slice(0, LIST_LIMIT).map(gapJson) };
}
