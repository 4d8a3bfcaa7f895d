// Leads (spec §5.3): one per e-mail address per customer, imported as JSON or
// CSV (deduplicated, suppressed addresses skipped), listed with cursor
// pagination, filters and search, and corrected by PATCH (a missing template
// value pauses an enrollment until someone fills it in). The tenant's
// suppression list is honoured on every import.
import Router from '@koa/router';
import { type Client } from '@temporalio/client';
import { type EntityManager } from 'typeorm';
import { z } from 'zod';
import { isId, newId } from '../../db/ids';
import { archiveSignal } from '../../workflows/enrollLead';
import { sinkCopies, sinkCopy, sinkFileBase } from '../../lib/mailSinkFiles';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { signalEnrollments, type EnrollmentKey } from '../enrollments';
import { ApiError, notFound } from '../errors';
import { customerScope } from '../middleware/customerScope';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { type AppState, type TenantAccess } from '../state';

export interface WorkflowClientDeps {
  client: Client;
  taskQueue: string;
}

const cell = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);
export const leadImportBody = z.object({ leads: z.array(z.record(z.string().max(100), cell)).min(1).max(10_000) }).strict();
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
  const words = key.trim().split(/[^A-Za-z0-9]+/).filter(Boolean);
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

export async function importLeads(a: TenantAccess, customerId: string, body: z.infer<typeof leadImportBody>, source: 'api' | 'csv') {
  const errors: { path: string; message: string; code: string }[] = [];
  const normalized: NormalizedLead[] = [];
  body.leads.forEach((record, i) => {
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
    if (!parsed.success) errors.push({ path: `leads.${i}.email`, message: `${source === 'csv' ? `row ${i + 2}: ` : ''}not a valid e-mail address`, code: 'invalid_format' });
    else normalized.push({ ...lead, email: parsed.data });
  });
  if (errors.length > 0) throw new ApiError(400, 'validation_failed', `${errors.length} lead(s) have no valid e-mail address; nothing was imported`, errors.slice(0, 100));

  const reasons = { duplicateInImport: 0, suppressed: 0, bounced: 0 };
  const unique = new Map<string, NormalizedLead>();
  for (const l of normalized) {
    if (unique.has(l.email)) reasons.duplicateInImport += 1;
    else unique.set(l.email, l);
  }
  const suppressed = new Set(((await a.manager.query('SELECT email FROM suppressions WHERE email = ANY($1)', [[...unique.keys()]])) as { email: string }[]).map((r) => r.email));
  const candidates = [...unique.values()].filter((l) => !suppressed.has(l.email));
  reasons.suppressed = unique.size - candidates.length;

  const leadIds: string[] = [];
  for (const l of candidates) {
    // One lead per address per customer: a re-import fills in what was empty.
    const [row] = (await a.manager.query(
      `INSERT INTO leads (tenant_id, id, customer_id, email, first_name, last_name, company, fields, source)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7::jsonb, $8)
       ON CONFLICT (tenant_id, customer_id, email) DO UPDATE SET
         first_name = CASE WHEN leads.first_name = '' THEN EXCLUDED.first_name ELSE leads.first_name END,
         last_name = CASE WHEN leads.last_name = '' THEN EXCLUDED.last_name ELSE leads.last_name END,
         company = CASE WHEN leads.company = '' THEN EXCLUDED.company ELSE leads.company END,
         fields = EXCLUDED.fields || leads.fields,
         updated_at = now()
       RETURNING id, status`,
      [newId('lead'), customerId, l.email, l.firstName, l.lastName, l.company, JSON.stringify(l.fields), source],
    )) as { id: string; status: string }[];
    if (row!.status === 'bounced' || row!.status === 'unsubscribed') reasons.bounced += 1;
    else leadIds.push(row!.id);
  }
  return { leadIds, skipped: reasons.duplicateInImport + reasons.suppressed + reasons.bounced, reasons };
}

/**
 * Unsubscribes an address in the current tenant: suppressed for every later
 * import, its leads marked, and every running enrollment of it stopped. The
 * caller signals the returned (started) enrollments after commit.
 */
export async function unsubscribeAddress(m: EntityManager, address: string, reason: 'unsubscribed' | 'bounced'): Promise<EnrollmentKey[]> {
  const emailAddress = address.trim().toLowerCase();
  await m.query("INSERT INTO suppressions (tenant_id, email, reason) VALUES (current_setting('app.tenant_id')::uuid, $1, $2) ON CONFLICT DO NOTHING", [emailAddress, reason]);
  await m.query('UPDATE leads SET status = $2, updated_at = now() WHERE email = $1', [emailAddress, reason]);
  const [rows] = (await m.query(
    `UPDATE enrollments SET status = $2, next_send_at = NULL, updated_at = now()
      WHERE lead_id IN (SELECT id FROM leads WHERE email = $1) AND status IN ('pending', 'active', 'paused')
      RETURNING id, campaign_id, lead_id, sequence_version`,
    [emailAddress, reason],
  )) as [(EnrollmentKey & { sequence_version: number | null })[], number];
  return rows.filter((r) => r.sequence_version !== null);
}

const leadsQuery = listQuery.extend({
  status: z.enum(['active', 'replied', 'bounced', 'unsubscribed']).optional(),
  source: z.enum(['api', 'csv']).optional(),
  campaign: z.string().max(40).optional(),
});
const leadPatch = z
  .object({
    firstName: z.string().trim().max(200).optional(),
    lastName: z.string().trim().max(200).optional(),
    company: z.string().trim().max(200).optional(),
    fields: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).max(100), z.string().max(2000)).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give firstName, lastName, company or fields' });

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
  const [row] = (await a.manager.query('SELECT * FROM leads WHERE id = $1 AND customer_id = $2', [id, customerId])) as LeadRow[];
  if (!row) throw notFound('lead');
  return row;
}

export function leadRoutes(deps: WorkflowClientDeps & AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'leads';
  const read = [scope, requirePermission('campaigns.read')];
  const write = [scope, requirePermission('campaigns.write')];
  const addressed = customerScope({ required: true, notFoundAs: 'lead' });
  const customerOf = (ctx: { state: AppState }) => ctx.state.customer!.id;

  route(router, { method: 'get', path: '/api/leads', response: R.leadList, summary: "List the customer's leads", tag, auth: 'tenant', permission: 'campaigns.read', query: leadsQuery }, ...read, customerScope({ required: true }), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [customerOf(ctx)];
    let where = 'customer_id = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND id > $${params.push(after)}`;
    if (query.status) where += ` AND status = $${params.push(query.status)}`;
    if (query.source) where += ` AND source = $${params.push(query.source)}`;
    if (query.campaign) where += ` AND id IN (SELECT lead_id FROM enrollments WHERE campaign_id = $${params.push(query.campaign)})`;
    if (query.q) {
      const n = params.push(likePattern(query.q));
      where += ` AND (email ILIKE $${n} ESCAPE '\\' OR first_name ILIKE $${n} ESCAPE '\\' OR last_name ILIKE $${n} ESCAPE '\\' OR company ILIKE $${n} ESCAPE '\\')`;
    }
    const rows = (await a.manager.query(`SELECT * FROM leads WHERE ${where} ORDER BY id LIMIT ${query.limit + 1}`, params)) as LeadRow[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: p.data.map(leadJson), nextCursor: p.nextCursor };
  });

  route(router, { method: 'get', path: '/api/leads/:id', response: R.leadWithEnrollments, summary: 'Get a lead with its enrollments', tag, auth: 'tenant', permission: 'campaigns.read' }, ...read, addressed, async (ctx) => {
    const a = access(ctx);
    const lead = await findLead(a, customerOf(ctx), ctx.params.id ?? '');
    const enrollments = (await a.manager.query(
      'SELECT e.id, e.campaign_id, c.name AS campaign_name, e.status, e.current_step, e.sent, e.next_send_at, e.last_error FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id WHERE e.lead_id = $1 ORDER BY e.id',
      [lead.id],
    )) as Record<string, unknown>[];
    ctx.body = {
      ...leadJson(lead),
      enrollments: enrollments.map((e) => ({ id: e.id, campaignId: e.campaign_id, campaignName: e.campaign_name, status: e.status, step: e.current_step, sent: e.sent, nextSendAt: e.next_send_at, lastError: e.last_error })),
    };
  });

  route(router, { method: 'patch', path: '/api/leads/:id', response: R.lead, summary: "Correct a lead's name, company or template fields", tag, auth: 'tenant', permission: 'campaigns.write', body: leadPatch }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const lead = await findLead(a, customerOf(ctx), ctx.params.id ?? '');
    await a.manager.query('UPDATE leads SET first_name = $2, last_name = $3, company = $4, fields = $5::jsonb, updated_at = now() WHERE id = $1', [
      lead.id,
      body.firstName ?? lead.first_name,
      body.lastName ?? lead.last_name,
      body.company ?? lead.company,
      JSON.stringify({ ...lead.fields, ...body.fields }),
    ]);
    ctx.body = leadJson(await findLead(a, customerOf(ctx), lead.id));
  });

  route(router, { method: 'delete', path: '/api/leads/:id', summary: 'Delete a lead (its enrollments stop)', tag, auth: 'tenant', permission: 'campaigns.write', status: 204 }, ...write, addressed, idempotency(), async (ctx) => {
    const a = access(ctx);
    const lead = await findLead(a, customerOf(ctx), ctx.params.id ?? '');
    const running = (await a.manager.query("SELECT id, campaign_id, lead_id FROM enrollments WHERE lead_id = $1 AND status IN ('active', 'paused') AND sequence_version IS NOT NULL", [lead.id])) as EnrollmentKey[];
    await a.manager.query('DELETE FROM leads WHERE id = $1', [lead.id]);
    if (running.length > 0) ctx.state.afterCommit!.push(() => signalEnrollments(deps.client, a.tenantId, running, archiveSignal));
    ctx.status = 204;
  });

  route(router, { method: 'get', path: '/api/outbox', response: R.outbox, summary: "Mail sent for the customer's campaigns, newest first", tag: 'outbox', auth: 'tenant', permission: 'campaigns.read', query: listQuery }, ...read, customerScope({ required: true }), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [customerOf(ctx)];
    let where = "m.customer_id = $1 AND m.direction = 'outbound'";
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND m.id < $${params.push(after)}`;
    if (query.q) where += ` AND (m.subject ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\' OR l.email ILIKE $${params.length} ESCAPE '\\')`;
    const rows = (await a.manager.query(
      `SELECT m.id, m.campaign_id, c.name AS campaign_name, m.step, m.status, m.subject, m.body, m.error, m.sent_at, m.scheduled_at, m.message_id, l.email AS to_email, i.from_email
         FROM messages m JOIN leads l ON l.id = m.lead_id JOIN campaigns c ON c.id = m.campaign_id LEFT JOIN inboxes i ON i.id = m.inbox_id
        WHERE ${where} ORDER BY m.id DESC LIMIT ${query.limit + 1}`,
      params,
    )) as Record<string, unknown>[];
    const p = page(rows, query.limit, (r) => String(r.id));
    const copies = deps.mailSinkDir ? sinkCopies(deps.mailSinkDir) : undefined;
    ctx.body = {
      data: p.data.map((r) => ({
        id: r.id,
        campaignId: r.campaign_id,
        campaignName: r.campaign_name,
        step: r.step,
        status: r.status,
        from: r.from_email,
        to: r.to_email,
        subject: r.subject,
        body: r.body,
        error: r.error,
        sentAt: r.sent_at,
        scheduledAt: r.scheduled_at,
        // With the local sink: how many copies it received (1, or 0 if it never arrived).
        sinkCopies: copies ? (copies.get(sinkFileBase(String(r.message_id))) ?? 0) : null,
      })),
      nextCursor: p.nextCursor,
    };
  });

  route(router, { method: 'get', path: '/api/outbox/:id/received', response: R.sinkCopy, summary: 'The message as the local SMTP sink received it (embedded default)', tag: 'outbox', auth: 'tenant', permission: 'campaigns.read' }, ...read, customerScope({ required: true, notFoundAs: 'message' }), async (ctx) => {
    const a = access(ctx);
    const id = ctx.params.id ?? '';
    const [m] = isId('msg', id) ? ((await a.manager.query("SELECT message_id FROM messages WHERE id = $1 AND customer_id = $2 AND direction = 'outbound'", [id, customerOf(ctx)])) as { message_id: string }[]) : [];
    const raw = m && deps.mailSinkDir ? sinkCopy(deps.mailSinkDir, m.message_id) : undefined;
    if (!raw) throw notFound('message');
    ctx.body = { id, copies: sinkCopies(deps.mailSinkDir!).get(sinkFileBase(m!.message_id)) ?? 1, raw };
  });

  return router;
}
