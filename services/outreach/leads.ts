// Leads: one per e-mail address per customer, imported as JSON or CSV rows
// (deduplicated, suppressed addresses skipped), listed with filters and
// search, and corrected by PATCH (a missing template value pauses an
// enrollment until someone fills it in). Suppressing an address marks its
// leads and stops its enrollments: `suppressAddress`. The statements are
// db/leads.ts and db/suppressions.ts.
import { type EntityManager } from 'typeorm';
import { z } from 'zod';
import { listLeadEnrollments, runningEnrollmentsOfLead } from '../../db/enrollments';
import { isId, newId } from '../../db/ids';
import * as leads from '../../db/leads';
import { conditionLead, type LeadRow } from '../../db/leads';
import * as suppressions from '../../db/suppressions';
import { leadStages } from '../../db/tenants';
import { type ListParams } from '../../db/pagination';
import { ApiError, forbidden, notFound } from '../../lib/errors';
import { archiveSignal } from '../../workflows/enrollLead.contract';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { type EnrollmentKey, signalAfterCommit, type WorkflowClientDeps } from './enrollments';
import { leadActivity, leadConversations } from './leadTimeline';

/** One imported row: column → value (JSON body or parsed CSV). */
export type LeadRecord = Record<string, string | number | boolean | null>;

const email = z.string().trim().toLowerCase().email().max(320);

const KNOWN: Record<string, 'email' | 'firstName' | 'lastName' | 'company'> = {
  email: 'email',
  emailaddress: 'email',
  firstname: 'firstName',
  lastname: 'lastName',
  company: 'company',
  companyname: 'company',
};

/** A custom column name as a template variable: `Job title` → `jobTitle`. */
function variableName(key: string): string | undefined {
  const words = key
    .trim()
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean);
  if (words.length === 0) return undefined;
  const name = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `_${name}`;
}

interface NormalizedLead {
  email: string;
  firstName: string;
  lastName: string;
  company: string;
  fields: Record<string, string>;
}

function normalize(records: LeadRecord[], source: 'api' | 'csv'): NormalizedLead[] {
  const errors: { path: string; message: string; code: string }[] = [];
  const normalized: NormalizedLead[] = [];
  records.forEach((record, i) => {
    const lead: NormalizedLead = { email: '', firstName: '', lastName: '', company: '', fields: {} };
    for (const [key, raw] of Object.entries(record)) {
      const value = raw === null ? '' : String(raw).trim();
      const folded = key.toLowerCase().replace(/[^a-z0-9]/g, '');
      const known = Object.hasOwn(KNOWN, folded) ? KNOWN[folded] : undefined;
      if (known) lead[known] = value;
      else {
        const name = variableName(key);
        if (name && value) Object.defineProperty(lead.fields, name, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    const parsed = email.safeParse(lead.email);
    // CSV rows count from 2: row 1 is the header.
    if (!parsed.success)
      errors.push({ path: `leads.${i}.email`, message: `${source === 'csv' ? `row ${i + 2}: ` : ''}not a valid e-mail address`, code: 'invalid_format' });
    else normalized.push({ ...lead, email: parsed.data });
  });
  if (errors.length > 0)
    throw new ApiError(400, 'validation_failed', `${errors.length} lead(s) have no valid e-mail address; nothing was imported`, errors.slice(0, 100));
  return normalized;
}

/** The lower-cased domain of an address (what `leads.email_domain` holds; the backfill derives it the same way in SQL). */
export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Upserts the customer's leads (with `replace`, the import's values replace
 * those of leads already present); answers the ids that may be enrolled, why
 * the others were skipped, and how many present leads changed.
 */
export async function importLeads(a: TenantAccess, customerId: string, records: LeadRecord[], source: 'api' | 'csv', replace = false) {
  const reasons = { duplicateInImport: 0, suppressed: 0, bounced: 0 };
  const unique = new Map<string, NormalizedLead>();
  for (const l of normalize(records, source)) {
    if (unique.has(l.email)) reasons.duplicateInImport += 1;
    else unique.set(l.email, l);
  }
  const suppressed = await suppressions.suppressedAmong(a.manager, [...unique.keys()]);
  const candidates = [...unique.values()].filter((l) => !suppressed.has(l.email));
  reasons.suppressed = unique.size - candidates.length;

  const leadIds: string[] = [];
  const present = { updated: 0, unchanged: 0 };
  for (const l of candidates) {
    // One lead per address per customer: a re-import fills in what was empty (or, asked to, replaces).
    const row = await leads.upsertLead(a.manager, customerId, { ...l, domain: emailDomain(l.email) }, source, replace);
    if (row.outcome !== 'inserted') present[row.outcome] += 1;
    if (row.status === 'bounced' || row.status === 'unsubscribed') reasons.bounced += 1;
    else leadIds.push(row.id);
  }
  return { leadIds, skipped: reasons.duplicateInImport + reasons.suppressed + reasons.bounced, reasons, ...present };
}

/**
 * Suppresses the address: listed for every later import, its leads marked,
 * and every running enrollment of it stopped (db/suppressions.ts). Answers
 * the stopped enrollments that had started, for the caller to signal after
 * commit.
 */
export async function suppressAddress(m: EntityManager, address: string, reason: 'unsubscribed' | 'bounced'): Promise<EnrollmentKey[]> {
  const rows = await suppressions.suppressAddressAndStop(m, address, reason);
  return rows.filter((r) => r.sequence_version !== null);
}

const leadJson = (l: LeadRow) => ({
  ...conditionLead(l),
  customerId: l.customer_id,
  source: l.source,
  createdAt: l.created_at,
  updatedAt: l.updated_at,
});

async function findLead(a: TenantAccess, customerId: string, id: string): Promise<LeadRow> {
  if (!isId('lead', id)) throw notFound('lead');
  const row = await leads.findLead(a.manager, customerId, id);
  if (!row) throw notFound('lead');
  return row;
}

export async function listLeads(
  a: TenantAccess,
  customerId: string,
  list: ListParams & { status?: string; source?: string; campaign?: string; stage?: string; tag?: string },
) {
  const p = await leads.listLeadsPage(a.manager, customerId, list);
  return { data: p.data.map(leadJson), nextCursor: p.nextCursor };
}

/**
 * How many of the customer's leads each e-mail domain has (the largest first),
 * with how many of them bounced or unsubscribed: who a list is really made of.
 * Rows older than `leads.email_domain` are derived on the fly until the
 * `leads-email-domain` backfill has filled the column.
 */
export async function leadDomains(a: TenantAccess, customerId: string, limit: number) {
  const rows = await leads.leadDomains(a.manager, customerId, limit);
  return { data: rows };
}

/**
 * The lead, its enrollments, and what `expand` asks for: its timeline
 * (services/outreach/leadTimeline.ts) and its conversations. Both show the
 * lead's replies, so either takes `conversations.read` beside the lead's own
 * permission.
 */
export async function getLead(a: TenantAccess, customerId: string, id: string, expand: readonly ('activity' | 'conversations')[] = []) {
  if (expand.length > 0 && !a.permissions.has('conversations.read')) throw forbidden('conversations.read');
  const lead = await findLead(a, customerId, id);
  const enrollments = await listLeadEnrollments(a.manager, lead.id);
  const expanded = {
    ...(expand.includes('activity') ? { activity: await leadActivity(a.manager, lead, enrollments) } : {}),
    ...(expand.includes('conversations') ? { conversations: await leadConversations(a.manager, lead.id) } : {}),
  };
  return {
    ...expanded,
    ...leadJson(lead),
    enrollments: enrollments.map((e) => ({
      id: e.id,
      campaignId: e.campaign_id,
      campaignName: e.campaign_name,
      status: e.status,
      step: e.current_step,
      sent: e.sent_accepted,
      uncertain: e.sent_uncertain,
      nextSendAt: e.next_send_at,
      lastError: e.last_error,
    })),
  };
}

/** The tenant's lead stages, in pipeline order: what a lead's `stage` may be. */
export async function listLeadStages(a: TenantAccess) {
  return { data: await leadStages(a.manager, a.tenantId) };
}

/**
 * Corrects a lead; a new `stage` (one of the tenant's) or list of `tags`
 * writes `lead.stage_changed` / `lead.tagged` under a key of its own, so one
 * person's change is one event per change however the automations that read
 * it are delivered; the same stage or tags again write nothing
 * (docs/automations.md, "Stages and tags").
 */
export async function updateLead(
  a: TenantAccess,
  customerId: string,
  id: string,
  patch: { firstName?: string; lastName?: string; company?: string; fields?: Record<string, string>; stage?: string; tags?: string[] },
) {
  const lead = await findLead(a, customerId, id);
  if (patch.stage !== undefined && !(await leadStages(a.manager, a.tenantId)).includes(patch.stage))
    throw new ApiError(400, 'validation_failed', `"${patch.stage}" is not one of the tenant's lead stages`, [
      { path: 'stage', message: "is not one of the tenant's lead stages", code: 'invalid_value' },
    ]);
  if (patch.firstName !== undefined || patch.lastName !== undefined || patch.company !== undefined || patch.fields !== undefined)
    await leads.updateLead(a.manager, lead.id, {
      firstName: patch.firstName ?? lead.first_name,
      lastName: patch.lastName ?? lead.last_name,
      company: patch.company ?? lead.company,
      fields: { ...lead.fields, ...patch.fields },
    });
  if (patch.stage !== undefined) {
    const r = await leads.setLeadStage(a.manager, customerId, lead.id, patch.stage, { dedupeKey: `stage:${newId('evt')}` });
    if (r?.changed)
      await auditBy(a, { action: 'lead_stage_changed', outcome: 'success', targetType: 'lead', targetId: lead.id, details: { from: r.from, to: r.to } });
  }
  if (patch.tags !== undefined) {
    const wanted = new Set(patch.tags);
    const change = { add: patch.tags.filter((t) => !lead.tags.includes(t)), remove: lead.tags.filter((t) => !wanted.has(t)) };
    if (change.add.length + change.remove.length > 0) {
      const r = await leads.changeLeadTags(a.manager, customerId, lead.id, change, { dedupeKey: `tags:${newId('evt')}` });
      if (r && r.added.length + r.removed.length > 0)
        await auditBy(a, {
          action: 'lead_tags_changed',
          outcome: 'success',
          targetType: 'lead',
          targetId: lead.id,
          details: { added: r.added, removed: r.removed },
        });
    }
  }
  return leadJson(await findLead(a, customerId, lead.id));
}

/** Deletes a lead; its running enrollments are archived once the request commits. */
export async function deleteLead(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string): Promise<void> {
  const lead = await findLead(a, customerId, id);
  const running = await runningEnrollmentsOfLead(a.manager, lead.id);
  await leads.deleteLead(a.manager, lead.id);
  signalAfterCommit(a, deps, running, archiveSignal);
}
