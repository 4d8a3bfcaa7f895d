// Campaigns (spec §5.3, seed 002's router surface): a customer's campaign with
// its inboxes and send schedule, versioned sequence snapshots, its leads (one
// enrollment workflow each), lead-level pause/resume/unsubscribe, replies,
// message history and stats. Every route is scoped to X-Customer-Id: a
// campaign of another customer is 404 like one that does not exist.
import Router from '@koa/router';
import { z } from 'zod';
import { isId, newId } from '../../db/ids';
import { isValidTimezone, parseClock } from '../../lib/schedule';
import { hasMalformedVariable } from '../../lib/templates';
import { archiveSignal, pauseSignal, resumeSignal, unsubscribeSignal } from '../../workflows/enrollLead';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { startEnrollments, signalEnrollments, type EnrollmentKey } from '../enrollments';
import { ApiError, notFound } from '../errors';
import { customerScope } from '../middleware/customerScope';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, INT4_MAX, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { type AppContext, type AppState, type TenantAccess } from '../state';
import { type WorkflowClientDeps, importLeads, leadImportBody, unsubscribeAddress } from './leads';

const clock = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'use HH:MM (24-hour)');
/** The zones the document lists (the server accepts every IANA name Intl knows, aliases included). */
const IANA_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])].filter(isValidTimezone);

export const scheduleBody = z
  .object({
    timezone: z
      .string()
      .min(1)
      .max(64)
      .refine(isValidTimezone, { message: 'not an IANA timezone (e.g. Europe/Berlin)' })
      .meta({ description: 'an IANA time zone name', enum: IANA_ZONES }),
    days: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, { message: 'each weekday once (1 = Monday … 7 = Sunday)' }),
    start: clock,
    end: clock,
  })
  .strict()
  .refine((s) => parseClock(s.start) < parseClock(s.end), { message: 'start must be before end', path: ['end'] });

const createBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    inboxIds: z.array(z.string().max(40)).min(1).max(50),
    schedule: scheduleBody,
  })
  .strict();

const statusBody = z.object({ status: z.enum(['active', 'paused', 'archived']) }).strict();

const stepSnapshot = z
  .object({
    subject: z.string().min(1).max(300).refine((t) => !hasMalformedVariable(t), { message: 'malformed variable: use {{name}}' }),
    body: z.string().min(1).max(50_000).refine((t) => !hasMalformedVariable(t), { message: 'malformed variable: use {{name}}' }),
    delayHours: z.number().int().min(0).max(8760),
  })
  .strict();
const sequenceBody = z.union([
  z.object({ sequenceId: z.string().max(40) }).strict(),
  z.object({ steps: z.array(stepSnapshot).min(1).max(20) }).strict(),
]);

const campaignLeadsQuery = listQuery.extend({ status: z.enum(['pending', 'active', 'paused', 'completed', 'replied', 'bounced', 'unsubscribed', 'archived', 'failed']).optional() });
const campaignListQuery = listQuery.extend({ status: z.enum(['draft', 'active', 'paused', 'completed', 'archived']).optional() });

interface CampaignRow {
  id: string;
  customer_id: string;
  name: string;
  status: string;
  timezone: string;
  days: number[];
  window_start: string;
  window_end: string;
  sequence_version: number | null;
  started_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const CAMPAIGN_COLUMNS = 'id, customer_id, name, status, timezone, days, window_start, window_end, sequence_version, started_at, created_at, updated_at';

async function findCampaign(a: TenantAccess, customerId: string, id: string, lock = false): Promise<CampaignRow> {
  if (!isId('cmp', id)) throw notFound('campaign');
  const [row] = (await a.manager.query(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1 AND customer_id = $2${lock ? ' FOR UPDATE' : ''}`, [id, customerId])) as CampaignRow[];
  if (!row) throw notFound('campaign');
  return row;
}

async function campaignJson(a: TenantAccess, c: CampaignRow) {
  const inboxes = (await a.manager.query('SELECT inbox_id FROM campaign_inboxes WHERE campaign_id = $1 ORDER BY inbox_id', [c.id])) as { inbox_id: string }[];
  return {
    id: c.id,
    customerId: c.customer_id,
    name: c.name,
    status: c.status,
    inboxIds: inboxes.map((i) => i.inbox_id),
    schedule: { timezone: c.timezone, days: c.days.map(Number), start: c.window_start, end: c.window_end },
    sequenceVersion: c.sequence_version,
    startedAt: c.started_at,
    createdAt: c.created_at,
    updatedAt: c.updated_at,
  };
}

async function findEnrollment(a: TenantAccess, campaignId: string, leadId: string): Promise<EnrollmentKey & { status: string }> {
  if (!isId('lead', leadId)) throw notFound('lead');
  const [row] = (await a.manager.query('SELECT id, campaign_id, lead_id, status FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [campaignId, leadId])) as (EnrollmentKey & { status: string })[];
  if (!row) throw notFound('lead');
  return row;
}

const ACTIVE_ENROLLMENT = "status IN ('active', 'paused')";

/**
 * Pins every pending enrollment of an active campaign to the current
 * sequence version and starts its workflow once the request has committed.
 */
export async function startPendingEnrollments(ctx: AppContext, deps: WorkflowClientDeps, campaign: { id: string; sequence_version: number | null }, leadIds?: string[]): Promise<number> {
  const a = access(ctx);
  const rows = (await a.manager.query(
    `UPDATE enrollments SET status = 'active', sequence_version = $2, updated_at = now()
      WHERE campaign_id = $1 AND status = 'pending' ${leadIds ? 'AND lead_id = ANY($3)' : ''}
      RETURNING id, campaign_id, lead_id`,
    leadIds ? [campaign.id, campaign.sequence_version, leadIds] : [campaign.id, campaign.sequence_version],
  )) as [EnrollmentKey[], number];
  const started = rows[0];
  if (started.length > 0) ctx.state.afterCommit!.push(() => startEnrollments(deps.client, deps.taskQueue, a.tenantId, started));
  return started.length;
}

export function campaignRoutes(deps: WorkflowClientDeps & AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'campaigns';
  const read = [scope, requirePermission('campaigns.read')];
  const write = [scope, requirePermission('campaigns.write')];
  const addressed = customerScope({ required: true, notFoundAs: 'campaign' });
  const customerOf = (ctx: { state: AppState }) => ctx.state.customer!.id;
  const campaignOf = (ctx: AppContext & { params: Record<string, string> }, lock = false) => findCampaign(access(ctx), customerOf(ctx), ctx.params.id ?? '', lock);

  route(router, { method: 'get', path: '/api/campaigns', response: R.list(R.campaign), summary: "List the customer's campaigns", tag, auth: 'tenant', permission: 'campaigns.read', query: campaignListQuery }, ...read, customerScope({ required: true }), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [customerOf(ctx)];
    let where = 'customer_id = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND id > $${params.push(after)}`;
    if (query.status) where += ` AND status = $${params.push(query.status)}`;
    if (query.q) where += ` AND name ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\'`;
    const rows = (await a.manager.query(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE ${where} ORDER BY id LIMIT ${query.limit + 1}`, params)) as CampaignRow[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: await Promise.all(p.data.map((c) => campaignJson(a, c))), nextCursor: p.nextCursor };
  });

  route(router, { method: 'post', path: '/api/campaigns', response: R.campaign, summary: 'Create a campaign (draft)', tag, auth: 'tenant', permission: 'campaigns.write', body: createBody, status: 201 }, ...write, customerScope({ required: true }), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const inboxIds = [...new Set(body.inboxIds)];
    const found = (await a.manager.query('SELECT id FROM inboxes WHERE id = ANY($1) AND customer_id = $2', [inboxIds.filter((i) => isId('inb', i)), customerOf(ctx)])) as { id: string }[];
    const known = new Set(found.map((f) => f.id));
    const unknown = inboxIds.filter((i) => !known.has(i));
    if (unknown.length > 0) {
      throw new ApiError(400, 'validation_failed', 'invalid body', unknown.map((i) => ({ path: `inboxIds.${body.inboxIds.indexOf(i)}`, message: 'no such inbox for this customer', code: 'custom' })));
    }
    const id = newId('cmp');
    await a.manager.query(
      `INSERT INTO campaigns (tenant_id, id, customer_id, name, timezone, days, window_start, window_end)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7)`,
      [id, customerOf(ctx), body.name, body.schedule.timezone, body.schedule.days, body.schedule.start, body.schedule.end],
    );
    for (const inboxId of inboxIds) {
      await a.manager.query("INSERT INTO campaign_inboxes (tenant_id, campaign_id, inbox_id) VALUES (current_setting('app.tenant_id')::uuid, $1, $2)", [id, inboxId]);
    }
    ctx.status = 201;
    ctx.body = await campaignJson(a, await findCampaign(a, customerOf(ctx), id));
  });

  route(router, { method: 'get', path: '/api/campaigns/:id', response: R.campaign, summary: 'Get a campaign', tag, auth: 'tenant', permission: 'campaigns.read' }, ...read, addressed, async (ctx) => {
    ctx.body = await campaignJson(access(ctx), await campaignOf(ctx));
  });

  route(router, { method: 'post', path: '/api/campaigns/:id/status', response: R.campaign, summary: 'Start, pause or archive a campaign (fans out to every enrollment)', tag, auth: 'tenant', permission: 'campaigns.write', body: statusBody }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx, true);
    if (c.status === 'archived') throw new ApiError(409, 'campaign_archived', 'an archived campaign cannot change status');
    if (c.status === body.status) {
      ctx.body = await campaignJson(a, c);
      return;
    }
    if (body.status === 'active') {
      if (c.sequence_version === null) throw new ApiError(409, 'no_sequence', 'give the campaign a sequence first (POST /api/campaigns/:id/sequence)');
      await a.manager.query("UPDATE campaigns SET status = 'active', started_at = coalesce(started_at, now()), updated_at = now() WHERE id = $1", [c.id]);
      const resumed = (await a.manager.query("UPDATE enrollments SET status = 'active', updated_at = now() WHERE campaign_id = $1 AND status = 'paused' RETURNING id, campaign_id, lead_id", [c.id])) as [EnrollmentKey[], number];
      if (resumed[0].length > 0) ctx.state.afterCommit!.push(() => signalEnrollments(deps.client, a.tenantId, resumed[0], resumeSignal));
      await startPendingEnrollments(ctx, deps, c);
    } else {
      const signal = body.status === 'paused' ? pauseSignal : archiveSignal;
      await a.manager.query('UPDATE campaigns SET status = $2, updated_at = now() WHERE id = $1', [c.id, body.status]);
      const touched = (await a.manager.query(
        `UPDATE enrollments SET status = $2, updated_at = now() WHERE campaign_id = $1 AND (${ACTIVE_ENROLLMENT} ${body.status === 'archived' ? "OR status = 'pending'" : ''}) RETURNING id, campaign_id, lead_id, sequence_version`,
        [c.id, body.status],
      )) as [(EnrollmentKey & { sequence_version: number | null })[], number];
      const running = touched[0].filter((e) => e.sequence_version !== null);
      if (running.length > 0) ctx.state.afterCommit!.push(() => signalEnrollments(deps.client, a.tenantId, running, signal));
    }
    ctx.body = await campaignJson(a, await findCampaign(a, customerOf(ctx), c.id));
  });

  route(router, { method: 'get', path: '/api/campaigns/:id/sequence', response: R.campaignSequence, summary: "The campaign's current sequence snapshot (or ?version=)", tag, auth: 'tenant', permission: 'campaigns.read', query: z.object({ version: z.coerce.number().int().min(1).max(INT4_MAX).optional() }).strict() }, ...read, addressed, async (ctx, { query }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    const version = query.version ?? c.sequence_version;
    const versions = (await a.manager.query('SELECT version FROM campaign_sequences WHERE campaign_id = $1 ORDER BY version', [c.id])) as { version: number }[];
    if (version === null) {
      ctx.body = { version: null, steps: [], versions: [] };
      return;
    }
    const [snap] = (await a.manager.query('SELECT version, source_sequence_id, steps, created_at FROM campaign_sequences WHERE campaign_id = $1 AND version = $2', [c.id, version])) as {
      version: number;
      source_sequence_id: string | null;
      steps: unknown[];
      created_at: Date;
    }[];
    if (!snap) throw notFound('sequence version');
    ctx.body = { version: snap.version, sourceSequenceId: snap.source_sequence_id, steps: snap.steps, createdAt: snap.created_at, current: snap.version === c.sequence_version, versions: versions.map((v) => v.version) };
  });

  route(router, { method: 'post', path: '/api/campaigns/:id/sequence', response: R.campaignSequenceCreated, summary: 'Take a new sequence version from a sequence or inline steps', tag, auth: 'tenant', permission: 'campaigns.write', body: sequenceBody, status: 201 }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx, true);
    if (c.status === 'archived') throw new ApiError(409, 'campaign_archived', 'an archived campaign cannot change');
    let steps: { subject: string; body: string; delayHours: number }[];
    let source: string | null = null;
    if ('sequenceId' in body) {
      const [seq] = isId('seq', body.sequenceId) ? ((await a.manager.query('SELECT id FROM sequences WHERE id = $1 AND customer_id = $2', [body.sequenceId, customerOf(ctx)])) as { id: string }[]) : [];
      if (!seq) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'sequenceId', message: 'no such sequence for this customer', code: 'custom' }]);
      steps = (await a.manager.query('SELECT subject, body, delay_hours AS "delayHours" FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [seq.id])) as typeof steps;
      if (steps.length === 0) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'sequenceId', message: 'the sequence has no steps', code: 'custom' }]);
      source = seq.id;
    } else {
      steps = body.steps;
    }
    const snapshot = steps.map((s, i) => ({ position: i + 1, subject: s.subject, body: s.body, delayHours: s.delayHours }));
    const [{ version }] = (await a.manager.query('SELECT coalesce(max(version), 0) + 1 AS version FROM campaign_sequences WHERE campaign_id = $1', [c.id])) as [{ version: number }];
    await a.manager.query("INSERT INTO campaign_sequences (tenant_id, campaign_id, version, source_sequence_id, steps) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4::jsonb)", [
      c.id,
      version,
      source,
      JSON.stringify(snapshot),
    ]);
    // Running enrollments keep the version they started with; new ones take this.
    await a.manager.query('UPDATE campaigns SET sequence_version = $2, updated_at = now() WHERE id = $1', [c.id, version]);
    ctx.status = 201;
    ctx.body = { version, sourceSequenceId: source, steps: snapshot, current: true };
  });

  route(router, { method: 'post', path: '/api/campaigns/:id/leads', response: R.leadsAdded, summary: 'Add leads (JSON or text/csv); duplicates and suppressed addresses are skipped', tag, auth: 'tenant', permission: 'campaigns.write', body: leadImportBody, alsoAccepts: [{ mediaType: 'text/csv', description: 'a header row with email and any of firstName, lastName, company; other columns become template variables' }], status: 200 }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx, true);
    if (c.status === 'archived' || c.status === 'completed') throw new ApiError(409, 'campaign_closed', 'leads cannot be added to an archived or completed campaign');
    const source = ctx.is('text/csv') ? 'csv' : 'api';
    const result = await importLeads(a, customerOf(ctx), body, source);
    const enrolled = (await a.manager.query(
      `INSERT INTO enrollments (tenant_id, id, customer_id, campaign_id, lead_id)
       SELECT current_setting('app.tenant_id')::uuid, x.enr, $1, $2, x.lead_id FROM unnest($3::text[], $4::text[]) AS x(lead_id, enr)
       ON CONFLICT (tenant_id, campaign_id, lead_id) DO NOTHING RETURNING lead_id`,
      [customerOf(ctx), c.id, result.leadIds, result.leadIds.map(() => newId('enr'))],
    )) as { lead_id: string }[];
    if (c.status === 'active' && enrolled.length > 0) await startPendingEnrollments(ctx, deps, c, enrolled.map((e) => e.lead_id));
    ctx.body = { added: enrolled.length, skipped: result.skipped + (result.leadIds.length - enrolled.length), skippedReasons: { ...result.reasons, alreadyInCampaign: result.leadIds.length - enrolled.length } };
  });

  route(router, { method: 'get', path: '/api/campaigns/:id/leads', response: R.campaignLeads, summary: "The campaign's leads and their enrollment state", tag, auth: 'tenant', permission: 'campaigns.read', query: campaignLeadsQuery }, ...read, addressed, async (ctx, { query }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    const params: unknown[] = [c.id];
    let where = 'e.campaign_id = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND e.id > $${params.push(after)}`;
    if (query.status) where += ` AND e.status = $${params.push(query.status)}`;
    if (query.q) {
      const n = params.push(likePattern(query.q));
      where += ` AND (l.email ILIKE $${n} ESCAPE '\\' OR l.first_name ILIKE $${n} ESCAPE '\\' OR l.last_name ILIKE $${n} ESCAPE '\\' OR l.company ILIKE $${n} ESCAPE '\\')`;
    }
    const rows = (await a.manager.query(
      `SELECT e.id AS enrollment_id, e.status, e.current_step, e.sent, e.next_send_at, e.last_error, e.sequence_version, l.id, l.email, l.first_name, l.last_name, l.company, l.status AS lead_status
         FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE ${where} ORDER BY e.id LIMIT ${query.limit + 1}`,
      params,
    )) as Record<string, unknown>[];
    const p = page(rows, query.limit, (r) => String(r.enrollment_id));
    ctx.body = {
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
        sent: r.sent,
        nextSendAt: r.next_send_at,
        sequenceVersion: r.sequence_version,
        lastError: r.last_error,
      })),
      nextCursor: p.nextCursor,
    };
  });

  for (const action of ['pause', 'resume'] as const) {
    route(router, { method: 'post', path: `/api/campaigns/:id/leads/:leadId/${action}`, response: R.enrollmentChanged, summary: `${action === 'pause' ? 'Pause' : 'Resume'} one lead's enrollment`, tag, auth: 'tenant', permission: 'campaigns.write' }, ...write, addressed, idempotency(), async (ctx) => {
      const a = access(ctx);
      const c = await campaignOf(ctx);
      const e = await findEnrollment(a, c.id, ctx.params.leadId ?? '');
      const from = action === 'pause' ? 'active' : 'paused';
      if (e.status !== from && e.status !== (action === 'pause' ? 'paused' : 'active')) {
        throw new ApiError(409, 'enrollment_not_running', `this lead's enrollment is ${e.status}`);
      }
      if (e.status === from) {
        await a.manager.query('UPDATE enrollments SET status = $2, last_error = CASE WHEN $2 = \'active\' THEN NULL ELSE last_error END, updated_at = now() WHERE id = $1', [e.id, action === 'pause' ? 'paused' : 'active']);
        ctx.state.afterCommit!.push(() => signalEnrollments(deps.client, a.tenantId, [e], action === 'pause' ? pauseSignal : resumeSignal));
      }
      ctx.body = { leadId: e.lead_id, status: action === 'pause' ? 'paused' : 'active' };
    });
  }

  route(router, { method: 'post', path: '/api/campaigns/:id/leads/:leadId/unsubscribe', response: R.leadUnsubscribed, summary: "Unsubscribe the lead's address: suppressed in the tenant, every enrollment of it stopped", tag, auth: 'tenant', permission: 'campaigns.write' }, ...write, addressed, idempotency(), async (ctx) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    const e = await findEnrollment(a, c.id, ctx.params.leadId ?? '');
    const [lead] = (await a.manager.query('SELECT email FROM leads WHERE id = $1', [e.lead_id])) as { email: string }[];
    const stopped = await unsubscribeAddress(a.manager, lead!.email, 'unsubscribed');
    if (stopped.length > 0) ctx.state.afterCommit!.push(() => signalEnrollments(deps.client, a.tenantId, stopped, unsubscribeSignal));
    ctx.body = { leadId: e.lead_id, status: 'unsubscribed', enrollmentsStopped: stopped.length };
  });

  route(router, { method: 'get', path: '/api/campaigns/:id/replies', response: R.replies, summary: 'Replies received in this campaign', tag, auth: 'tenant', permission: 'campaigns.read', query: listQuery }, ...read, addressed, async (ctx, { query }) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    const params: unknown[] = [c.id];
    let where = "m.campaign_id = $1 AND m.direction = 'inbound'";
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND m.id < $${params.push(after)}`;
    if (query.q) where += ` AND (m.subject ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\' OR m.body ILIKE $${params.length} ESCAPE '\\')`;
    const rows = (await a.manager.query(
      `SELECT m.id, m.lead_id, m.subject, m.body, m.created_at, l.email, l.first_name, l.last_name FROM messages m JOIN leads l ON l.id = m.lead_id WHERE ${where} ORDER BY m.id DESC LIMIT ${query.limit + 1}`,
      params,
    )) as { id: string; lead_id: string; subject: string; body: string; created_at: Date; email: string; first_name: string; last_name: string }[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: p.data.map((r) => ({ id: r.id, leadId: r.lead_id, email: r.email, name: `${r.first_name} ${r.last_name}`.trim(), subject: r.subject, body: r.body, receivedAt: r.created_at })), nextCursor: p.nextCursor };
  });

  route(router, { method: 'get', path: '/api/campaigns/:id/leads/:leadId/messages', response: R.leadMessages, summary: "One lead's message history in this campaign", tag, auth: 'tenant', permission: 'campaigns.read' }, ...read, addressed, async (ctx) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    const e = await findEnrollment(a, c.id, ctx.params.leadId ?? '');
    const rows = (await a.manager.query(
      'SELECT id, direction, step, status, subject, body, error, scheduled_at, sent_at, opened_at, opens, created_at FROM messages WHERE enrollment_id = $1 ORDER BY created_at, id',
      [e.id],
    )) as Record<string, unknown>[];
    ctx.body = {
      data: rows.map((r) => ({ id: r.id, direction: r.direction, step: r.step, status: r.status, subject: r.subject, body: r.body, error: r.error, scheduledAt: r.scheduled_at, sentAt: r.sent_at, openedAt: r.opened_at, opens: r.opens, createdAt: r.created_at })),
    };
  });

  route(router, { method: 'get', path: '/api/campaigns/:id/stats', response: R.campaignStats, summary: 'Enrolled, sent, replied, bounced, unsubscribed — overall and per step', tag, auth: 'tenant', permission: 'campaigns.read' }, ...read, addressed, async (ctx) => {
    const a = access(ctx);
    const c = await campaignOf(ctx);
    ctx.body = await campaignStats(a, c);
  });

  return router;
}

export async function campaignStats(a: TenantAccess, c: { id: string; sequence_version: number | null }) {
  const [counts] = (await a.manager.query(
    `SELECT count(*)::int AS enrolled,
            count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'active')::int AS active,
            count(*) FILTER (WHERE status = 'paused')::int AS paused,
            count(*) FILTER (WHERE status = 'completed')::int AS completed,
            count(*) FILTER (WHERE status = 'replied')::int AS replied,
            count(*) FILTER (WHERE status = 'bounced')::int AS bounced,
            count(*) FILTER (WHERE status = 'unsubscribed')::int AS unsubscribed
       FROM enrollments WHERE campaign_id = $1`,
    [c.id],
  )) as Record<string, number>[];
  const perStep = (await a.manager.query(
    `SELECT step, count(*) FILTER (WHERE status IN ('accepted', 'uncertain'))::int AS sent, count(*) FILTER (WHERE opens > 0)::int AS opened,
            count(*) FILTER (WHERE status IN ('failed', 'render_error'))::int AS errors
       FROM messages WHERE campaign_id = $1 AND direction = 'outbound' GROUP BY step ORDER BY step`,
    [c.id],
  )) as { step: number; sent: number; opened: number; errors: number }[];
  const [snap] = c.sequence_version === null ? [] : ((await a.manager.query('SELECT jsonb_array_length(steps) AS n FROM campaign_sequences WHERE campaign_id = $1 AND version = $2', [c.id, c.sequence_version])) as { n: number }[]);
  const stepCount = Math.max(snap?.n ?? 0, ...perStep.map((s) => s.step));
  const byStep = new Map(perStep.map((s) => [s.step, s]));
  const enrolled = counts!.enrolled ?? 0;
  const steps = Array.from({ length: stepCount }, (_, i) => {
    const s = byStep.get(i + 1);
    return { step: i + 1, sent: s?.sent ?? 0, opened: s?.opened ?? 0, errors: s?.errors ?? 0, of: enrolled };
  });
  return { ...counts, sent: steps.reduce((n, s) => n + s.sent, 0), opened: steps.reduce((n, s) => n + s.opened, 0), steps };
}
