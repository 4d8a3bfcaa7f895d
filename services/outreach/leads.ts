// Leads (spec §5.3): one per e-mail address per customer, imported as JSON or
// CSV rows (deduplicated, suppressed addresses skipped), listed with filters
// and search, and corrected by PATCH (a missing template value pauses an
// enrollment until someone fills it in). Suppressing an address (the list's
// one writer is db/suppressions) marks its leads and stops its enrollments:
// `suppressAddress`.
import { type EntityManager } from 'typeorm';
import { z } from 'zod';
import { isId, newId } from '../../db/ids';
import { insertSuppression } from '../../db/suppressions';
import { keysetPage, type ListParams } from '../../db/pagination';
import { ApiError, notFound } from '../../lib/errors';
import { archiveSignal } from '../../workflows/enrollLead.contract';
import { type TenantAccess } from '../context';
import { type EnrollmentKey, SEND_COUNTS_JOIN, signalAfterCommit, type WorkflowClientDeps } from './enrollments';

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

/** Upserts the customer's leads; answers the ids that may be enrolled and why the others were skipped. */
export async function importLeads(a: TenantAccess, customerId: string, records: LeadRecord[], source: 'api' | 'csv') {
  const reasons = { duplicateInImport: 0, suppressed: 0, bounced: 0 };
  const unique = new Map<string, NormalizedLead>();
  for (const l of normalize(records, source)) {
    if (unique.has(l.email)) reasons.duplicateInImport += 1;
    else unique.set(l.email, l);
  }
  const suppressed = new Set(
    ((await a.manager.query('SELECT email FROM suppressions WHERE email = ANY($1)', [[...unique.keys()]])) as { email: string }[]).map((r) => r.email),
  );
  const candidates = [...unique.values()].filter((l) => !suppressed.has(l.email));
  reasons.suppressed = unique.size - candidates.length;

  const leadIds: string[] = [];
  for (const l of candidates) {
    // One lead per address per customer: a re-import fills in what was empty.
    const [row] = (await a.manager.query(
      `INSERT INTO leads (tenant_id, id, customer_id, email, email_domain, first_name, last_name, company, fields, source)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $9, $4, $5, $6, $7::jsonb, $8)
       ON CONFLICT (tenant_id, customer_id, email) DO UPDATE SET
         first_name = CASE WHEN leads.first_name = '' THEN EXCLUDED.first_name ELSE leads.first_name END,
         last_name = CASE WHEN leads.last_name = '' THEN EXCLUDED.last_name ELSE leads.last_name END,
         company = CASE WHEN leads.company = '' THEN EXCLUDED.company ELSE leads.company END,
         fields = EXCLUDED.fields || leads.fields,
         updated_at = now()
       RETURNING id, status`,
      [newId('lead'), customerId, l.email, l.firstName, l.lastName, l.company, JSON.stringify(l.fields), source, emailDomain(l.email)],
    )) as { id: string; status: string }[];
    if (row!.status === 'bounced' || row!.status === 'unsubscribed') reasons.bounced += 1;
    else leadIds.push(row!.id);
  }
  return { leadIds, skipped: reasons.duplicateInImport + reasons.suppressed + reasons.bounced, reasons };
}

/**
 * The one writer of the suppression list: the address is suppressed for every
 * later import, its leads marked, and every running enrollment of it stopped.
 * Answers the started enrollments, for the caller to signal after commit.
 */
export async function suppressAddress(m: EntityManager, address: string, reason: 'unsubscribed' | 'bounced'): Promise<EnrollmentKey[]> {
  const emailAddress = await insertSuppression(m, address, reason);
  await m.query('UPDATE leads SET status = $2, updated_at = now() WHERE email = $1', [emailAddress, reason]);
  const [rows] = (await m.query(
    `UPDATE enrollments SET status = $2, next_send_at = NULL, updated_at = now()
      WHERE lead_id IN (SELECT id FROM leads WHERE email = $1) AND status IN ('pending', 'active', 'paused')
      RETURNING id, campaign_id, lead_id, sequence_version`,
    [emailAddress, reason],
  )) as [(EnrollmentKey & { sequence_version: number | null })[], number];
  return rows.filter((r) => r.sequence_version !== null);
}

interface LeadRow {
  id: string;
  customer_id: string;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  fields: Record<string, string>;
  status: string;
  source: string;
  created_at: Date;
  updated_at: Date;
}

/** What a lead's answer shows, and so all a read of one selects (not `search`, the index's copy of four of them). */
export const LEAD_COLUMNS = 'id, customer_id, email, first_name, last_name, company, fields, status, source, created_at, updated_at';

const leadJson = (l: LeadRow) => ({
  id: l.id,
  customerId: l.customer_id,
  email: l.email,
  firstName: l.first_name,
  lastName: l.last_name,
  company: l.company,
  fields: l.fields,
  status: l.status,
  source: l.source,
  createdAt: l.created_at,
  updatedAt: l.updated_at,
});

async function findLead(a: TenantAccess, customerId: string, id: string): Promise<LeadRow> {
  if (!isId('lead', id)) throw notFound('lead');
  const [row] = (await a.manager.query(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1 AND customer_id = $2`, [id, customerId])) as LeadRow[];
  if (!row) throw notFound('lead');
  return row;
}

export async function listLeads(a: TenantAccess, customerId: string, list: ListParams & { status?: string; source?: string; campaign?: string }) {
  const where: [string, unknown][] = [
    ['customer_id = ?', customerId],
    ['status = ?', list.status],
    ['source = ?', list.source],
    ['id IN (SELECT lead_id FROM enrollments WHERE campaign_id = ?)', list.campaign],
  ];
  if (!list.q) {
    const p = await keysetPage<LeadRow>(a.manager, list, { select: `SELECT ${LEAD_COLUMNS} FROM leads`, key: 'id', where, idOf: (r) => r.id });
    return { data: p.data.map(leadJson), nextCursor: p.nextCursor };
  }
  // A search finds the page's keys first, reading the customer's index alone
  // (it carries `search`: migrations/1730000012000-lead-search.ts), then
  // loads those rows by key: the heap is read for 50 leads, not for every
  // lead the search passes over.
  const keys = await keysetPage<{ id: string }>(a.manager, list, {
    select: 'SELECT id FROM leads',
    key: 'id',
    where,
    search: { haystack: 'search' },
    idOf: (r) => r.id,
  });
  const rows = keys.data.length
    ? ((await a.manager.query(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = ANY($1) ORDER BY id`, [keys.data.map((k) => k.id)])) as LeadRow[])
    : [];
  return { data: rows.map(leadJson), nextCursor: keys.nextCursor };
}

/**
 * How many of the customer's leads each e-mail domain has (the largest first),
 * with how many of them bounced or unsubscribed: who a list is really made of.
 * Rows older than `leads.email_domain` are derived on the fly until the
 * `leads-email-domain` backfill has filled the column.
 */
export async function leadDomains(a: TenantAccess, customerId: string, limit: number) {
  const rows = (await a.manager.query(
    `SELECT coalesce(email_domain, lower(split_part(email, '@', 2))) AS domain, count(*)::int AS leads,
            count(*) FILTER (WHERE status IN ('bounced', 'unsubscribed'))::int AS suppressed
       FROM leads WHERE customer_id = $1
      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
    [customerId, limit],
  )) as { domain: string; leads: number; suppressed: number }[];
  return { data: rows };
}

export async function getLead(a: TenantAccess, customerId: string, id: string) {
  const lead = await findLead(a, customerId, id);
  const enrollments = (await a.manager.query(
    `SELECT e.id, e.campaign_id, c.name AS campaign_name, e.status, e.current_step, e.next_send_at, e.last_error, sc.sent_accepted, sc.sent_uncertain
       FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id ${SEND_COUNTS_JOIN} WHERE e.lead_id = $1 ORDER BY e.id`,
    [lead.id],
  )) as Record<string, unknown>[];
  return {
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

export async function updateLead(
  a: TenantAccess,
  customerId: string,
  id: string,
  patch: { firstName?: string; lastName?: string; company?: string; fields?: Record<string, string> },
) {
  const lead = await findLead(a, customerId, id);
  await a.manager.query('UPDATE leads SET first_name = $2, last_name = $3, company = $4, fields = $5::jsonb, updated_at = now() WHERE id = $1', [
    lead.id,
    patch.firstName ?? lead.first_name,
    patch.lastName ?? lead.last_name,
    patch.company ?? lead.company,
    JSON.stringify({ ...lead.fields, ...patch.fields }),
  ]);
  return leadJson(await findLead(a, customerId, lead.id));
}

/** Deletes a lead; its running enrollments are archived once the request commits. */
export async function deleteLead(a: TenantAccess, deps: WorkflowClientDeps, customerId: string, id: string): Promise<void> {
  const lead = await findLead(a, customerId, id);
  const running = (await a.manager.query(
    "SELECT id, campaign_id, lead_id FROM enrollments WHERE lead_id = $1 AND status IN ('active', 'paused') AND sequence_version IS NOT NULL",
    [lead.id],
  )) as EnrollmentKey[];
  await a.manager.query('DELETE FROM leads WHERE id = $1', [lead.id]);
  signalAfterCommit(a, deps, running, archiveSignal);
}
