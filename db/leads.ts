// Leads: one row per e-mail address per customer, with the columns a
// template may use (`fields` holds the custom ones). A re-import fills in
// what was empty, and overwrites only when asked to (`update=true`); `status` turns to bounced or
// unsubscribed when the address is suppressed (db/suppressions.ts).
import { type EntityManager } from 'typeorm';
import { type RunData } from '../lib/automations';
import { eventInsert } from './analyticsEvents';
import { LEADS_IN_CAMPAIGN } from './enrollments';
import { newId } from './ids';
import { keysetStatement, type ListParams, page, type Page, sortOf, sortValueOf } from './pagination';

export interface LeadRow {
  id: string;
  customer_id: string;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  fields: Record<string, string>;
  status: string;
  /** The tenant's pipeline stage a person set (docs/automations.md, "Stages and tags"); apart from the delivery `status`. */
  stage: string;
  tags: string[];
  source: string;
  created_at: Date;
  updated_at: Date;
}

/** What a lead's answer shows, and so all a read of one selects (not `search`, the index's copy of four of them). */
export const LEAD_COLUMNS = 'id, customer_id, email, first_name, last_name, company, fields, status, stage, tags, source, created_at, updated_at';

export interface ImportedLead {
  email: string;
  /** The address's lower-cased domain (`leads.email_domain`). */
  domain: string;
  firstName: string;
  lastName: string;
  company: string;
  fields: Record<string, string>;
}

/**
 * Inserts the customer's lead for the address, or fills in what its existing
 * lead has empty — with `replace`, takes every value the import gives over
 * the lead's (an empty one keeps the lead's); answers its id, status and
 * whether it was inserted, changed or left as it was. A new lead writes its
 * `lead.created` in the same statement (docs/analytics.md).
 */
export async function upsertLead(
  m: EntityManager,
  customerId: string,
  l: ImportedLead,
  source: 'api' | 'csv',
  replace = false,
): Promise<{ id: string; status: string; outcome: 'inserted' | 'updated' | 'unchanged' }> {
  const [row] = (await m.query(
    `WITH before AS (SELECT first_name, last_name, company, fields FROM leads WHERE customer_id = $2 AND email = $3),
     up AS (
       INSERT INTO leads (tenant_id, id, customer_id, email, email_domain, first_name, last_name, company, fields, source)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $9, $4, $5, $6, $7::jsonb, $8)
       ON CONFLICT (tenant_id, customer_id, email) DO UPDATE SET
         first_name = CASE WHEN leads.first_name = '' OR ($10 AND EXCLUDED.first_name <> '') THEN EXCLUDED.first_name ELSE leads.first_name END,
         last_name = CASE WHEN leads.last_name = '' OR ($10 AND EXCLUDED.last_name <> '') THEN EXCLUDED.last_name ELSE leads.last_name END,
         company = CASE WHEN leads.company = '' OR ($10 AND EXCLUDED.company <> '') THEN EXCLUDED.company ELSE leads.company END,
         fields = CASE WHEN $10 THEN leads.fields || EXCLUDED.fields ELSE EXCLUDED.fields || leads.fields END,
         updated_at = now()
       RETURNING id, customer_id, status, first_name, last_name, company, fields, created_at, (xmax = 0) AS inserted),
     created AS (${eventInsert(
       'up',
       { type: "'lead.created'", occurredAt: 'up.created_at', customerId: 'up.customer_id', leadId: 'up.id', dedupeKey: "'lead.created:' || up.id" },
       'up.inserted',
     )})
     SELECT up.id, up.status,
            CASE WHEN NOT EXISTS (SELECT 1 FROM before) THEN 'inserted'
                 WHEN EXISTS (SELECT 1 FROM before b WHERE (b.first_name, b.last_name, b.company, b.fields) = (up.first_name, up.last_name, up.company, up.fields))
                 THEN 'unchanged' ELSE 'updated' END AS outcome
       FROM up`,
    [newId('lead'), customerId, l.email, l.firstName, l.lastName, l.company, JSON.stringify(l.fields), source, l.domain, replace],
  )) as { id: string; status: string; outcome: 'inserted' | 'updated' | 'unchanged' }[];
  return row!;
}

export async function findLead(m: EntityManager, customerId: string, id: string): Promise<LeadRow | undefined> {
  const [row] = (await m.query(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1 AND customer_id = $2`, [id, customerId])) as LeadRow[];
  return row;
}

/** The address of a lead the caller already found (through its enrollment). */
export async function leadEmail(m: EntityManager, id: string): Promise<string> {
  const [lead] = (await m.query('SELECT email FROM leads WHERE id = $1', [id])) as { email: string }[];
  return lead!.email;
}

/**
 * One page of the customer's leads, filtered by status, source or campaign.
 * A search finds the page's keys first, reading the customer's index alone
 * (it carries `search`: migrations/1730000012000-lead-search.ts), then loads
 * those rows by key: the heap is read for 50 leads, not for every lead the
 * search passes over.
 */
export async function listLeadsPage(m: EntityManager, customerId: string, list: LeadListParams): Promise<Page<LeadRow>> {
  const first = leadPageStatement(customerId, list);
  const valueOf = sortValueOf<{ id: string }>(sortOf(list.sort, LEAD_SORTS).column);
  if (!list.q) return page((await m.query(first.sql, first.params)) as LeadRow[], list.limit, (r) => r.id, valueOf);
  const keys = page((await m.query(first.sql, first.params)) as { id: string }[], list.limit, (r) => r.id, valueOf);
  const rows = keys.data.length ? ((await m.query(LEAD_ROWS, [keys.data.map((k) => k.id)])) as LeadRow[]) : [];
  // The rows come back in id order; the page keeps the keys' order.
  const byId = new Map(rows.map((r) => [r.id, r]));
  return { data: keys.data.map((k) => byId.get(k.id)).filter((r): r is LeadRow => r !== undefined), nextCursor: keys.nextCursor };
}

/** The columns a lead list sorts by (besides `created`). */
const LEAD_SORTS = { email: 'email' };

export type LeadListParams = ListParams & { status?: string; source?: string; campaign?: string; stage?: string; tag?: string };

/**
 * The first statement of a lead list page: the page's rows, or with a search
 * term only the page's keys (from the customer's search index alone), whose
 * rows `LEAD_ROWS` then reads. The read benchmark measures these same texts.
 */
export function leadPageStatement(customerId: string, list: LeadListParams): { sql: string; params: unknown[] } {
  const where: [string, unknown][] = [
    ['customer_id = ?', customerId],
    ['status = ?', list.status],
    ['source = ?', list.source],
    [LEADS_IN_CAMPAIGN, list.campaign],
    ['stage = ?', list.stage],
    // Containment, so the tags' GIN index answers it.
    ['tags @> ARRAY[?]::text[]', list.tag],
  ];
  // A sorted search reads the sort column too (the heap, not the index alone).
  const keys = sortOf(list.sort, LEAD_SORTS).column ? 'id, email' : 'id';
  return list.q
    ? keysetStatement(list, { select: `SELECT ${keys} FROM leads`, key: 'id', where, search: { haystack: 'search' }, sorts: LEAD_SORTS })
    : keysetStatement(list, { select: `SELECT ${LEAD_COLUMNS} FROM leads`, key: 'id', where, sorts: LEAD_SORTS });
}

/** The rows of a searched page's keys, in key order. */
export const LEAD_ROWS = `SELECT ${LEAD_COLUMNS} FROM leads WHERE id = ANY($1) ORDER BY id`;

/**
 * How many of the customer's leads each e-mail domain has (the largest first),
 * with how many of them bounced or unsubscribed. Rows older than
 * `leads.email_domain` are derived on the fly until the `leads-email-domain`
 * backfill has filled the column.
 */
export async function leadDomains(m: EntityManager, customerId: string, limit: number): Promise<{ domain: string; leads: number; suppressed: number }[]> {
  return (await m.query(
    `SELECT coalesce(email_domain, lower(split_part(email, '@', 2))) AS domain, count(*)::int AS leads,
            count(*) FILTER (WHERE status IN ('bounced', 'unsubscribed'))::int AS suppressed
       FROM leads WHERE customer_id = $1
      GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $2`,
    [customerId, limit],
  )) as { domain: string; leads: number; suppressed: number }[];
}

export async function updateLead(
  m: EntityManager,
  id: string,
  lead: { firstName: string; lastName: string; company: string; fields: Record<string, string> },
): Promise<void> {
  await m.query('UPDATE leads SET first_name = $2, last_name = $3, company = $4, fields = $5::jsonb, updated_at = now() WHERE id = $1', [
    id,
    lead.firstName,
    lead.lastName,
    lead.company,
    JSON.stringify(lead.fields),
  ]);
}

export async function deleteLead(m: EntityManager, id: string): Promise<void> {
  await m.query('DELETE FROM leads WHERE id = $1', [id]);
}

/**
 * Marks the lead of an enrollment as stopped by it (replied, bounced,
 * unsubscribed) while it is still active; the address when it was marked.
 */
export async function markEnrollmentLeadStopped(
  m: EntityManager,
  enrollmentId: string,
  status: 'replied' | 'bounced' | 'unsubscribed',
): Promise<string | undefined> {
  // An unsubscribe that came as a bare signal writes its event here; one
  // that came through suppressAddressAndStop wrote the same key already.
  const [lead] = (await m.query(
    `WITH unsubscribed AS (${eventInsert(
      'enrollments e',
      {
        type: "'lead.unsubscribed'",
        customerId: 'e.customer_id',
        campaignId: 'e.campaign_id',
        enrollmentId: 'e.id',
        leadId: 'e.lead_id',
        dedupeKey: "'lead.unsubscribed:' || e.id",
      },
      "e.id = $1 AND $2 = 'unsubscribed'",
    )})
     UPDATE leads SET status = $2, updated_at = now() WHERE id = (SELECT lead_id FROM enrollments WHERE id = $1) AND status = 'active' RETURNING email`,
    [enrollmentId, status],
  )) as [{ email: string }[], number];
  return lead[0]?.email;
}

/** The custom field keys any of the customer's leads has (the template variables beyond the four columns), sorted. */
export async function customerLeadFieldKeys(m: EntityManager, customerId: string): Promise<string[]> {
  const rows = (await m.query('SELECT DISTINCT jsonb_object_keys(fields) AS key FROM leads WHERE customer_id = $1 ORDER BY 1', [customerId])) as {
    key: string;
  }[];
  return rows.map((r) => r.key);
}

/** A campaign's enrollment and its lead, with the variables of its sequence version the lead has no value for. */
export interface LeadGapRow {
  enrollment_id: string;
  status: string;
  last_error: string | null;
  sequence_version: number | null;
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  company: string;
  fields: Record<string, unknown>;
  missing: string[];
  /** How many rows the filter matched before the limit. */
  total: number;
}

/**
 * The campaign's enrollments in `statuses` with the variables their lead
 * lacks: an enrollment that has started is checked against the version it
 * is pinned to, one still pending against the campaign's current version.
 * `variables` maps a version to the variables its steps use. A value is
 * lacking when it is absent or blank, as the renderer sees it.
 * `lackingOnly` keeps only leads that lack something; `erroredOnly` only
 * enrollments that stopped at a render error (they carry `last_error`).
 */
export async function campaignLeadGaps(
  m: EntityManager,
  campaignId: string,
  plan: { variables: Record<number, string[]>; currentVersion: number | null },
  filter: { statuses: readonly string[]; lackingOnly: boolean; erroredOnly: boolean; limit: number },
): Promise<LeadGapRow[]> {
  return (await m.query(
    `WITH gaps AS (
       SELECT e.id AS enrollment_id, e.status, e.last_error, e.sequence_version,
              l.id, l.email, l.first_name, l.last_name, l.company, l.fields,
              ARRAY(SELECT v FROM jsonb_array_elements_text($2::jsonb -> coalesce(e.sequence_version, $3::int)::text) AS v
                     WHERE coalesce(btrim(CASE v WHEN 'email' THEN l.email WHEN 'firstName' THEN l.first_name WHEN 'lastName' THEN l.last_name
                                                 WHEN 'company' THEN l.company ELSE l.fields ->> v END), '') = '') AS missing
         FROM leads l JOIN enrollments e ON e.lead_id = l.id
        WHERE e.campaign_id = $1 AND e.status = ANY($4::text[]) AND (NOT $6::boolean OR e.last_error IS NOT NULL))
     SELECT *, count(*) OVER ()::int AS total FROM gaps
      WHERE NOT $5::boolean OR cardinality(missing) > 0
      ORDER BY enrollment_id LIMIT $7`,
    [campaignId, JSON.stringify(plan.variables), plan.currentVersion, filter.statuses, filter.lackingOnly, filter.erroredOnly, filter.limit],
  )) as LeadGapRow[];
}

/**
 * Sets a lead's stage; a lead already in that stage is left alone and writes
 * no event. The change writes `lead.stage_changed` (properties `from`, `to`)
 * in the same statement, keyed by `dedupeKey` (docs/automations.md, "Stages
 * and tags"). Answers the stages before and after, or undefined when the
 * customer has no such lead.
 */
export async function setLeadStage(
  m: EntityManager,
  customerId: string,
  leadId: string,
  stage: string,
  event: { dedupeKey: string; automationId?: string },
): Promise<{ from: string; to: string; changed: boolean } | undefined> {
  const [row] = (await m.query(
    `WITH old AS (SELECT id, stage FROM leads WHERE id = $1 AND customer_id = $2 FOR UPDATE),
          upd AS (UPDATE leads l SET stage = $3, updated_at = now() FROM old WHERE l.id = old.id AND old.stage <> $3
                  RETURNING l.id, l.customer_id, old.stage AS from_stage, l.stage AS to_stage),
          ev AS (${eventInsert('upd', {
            type: "'lead.stage_changed'",
            customerId: 'upd.customer_id',
            leadId: 'upd.id',
            automationId: '$5::text',
            properties: "jsonb_build_object('from', upd.from_stage, 'to', upd.to_stage)",
            dedupeKey: '$4::text',
          })})
     SELECT old.stage AS "from", $3::text AS "to", EXISTS (SELECT 1 FROM upd) AS changed FROM old`,
    [leadId, customerId, stage, event.dedupeKey, event.automationId ?? null],
  )) as { from: string; to: string; changed: boolean }[];
  return row;
}

/** At most this many tags on a lead (the column's CHECK, docs/automations.md "Stages and tags"). */
export const MAX_LEAD_TAGS = 50;

/**
 * Adds and removes tags of a lead in one statement; every tag added writes
 * `lead.tagged` (properties `tag`, `added: true`), every tag removed one with
 * `added: false`, each keyed by `dedupeKey` and the tag. A tag the lead
 * already has (or lacks, to remove) changes nothing and writes nothing. A
 * change that would leave the lead more than `MAX_LEAD_TAGS` tags changes
 * nothing either and answers `tooMany` (the column's CHECK would refuse it).
 * Answers the lead's tags after, or undefined when the customer has no such lead.
 */
export async function changeLeadTags(
  m: EntityManager,
  customerId: string,
  leadId: string,
  change: { add?: string[]; remove?: string[] },
  event: { dedupeKey: string; automationId?: string },
): Promise<{ tags: string[]; added: string[]; removed: string[]; tooMany: boolean } | undefined> {
  const [row] = (await m.query(
    `WITH old AS (SELECT id, customer_id, tags FROM leads WHERE id = $1 AND customer_id = $2 FOR UPDATE),
          added AS (SELECT old.id, old.customer_id, t AS tag, true AS added FROM old, unnest($3::text[]) t WHERE NOT t = ANY(old.tags) AND NOT t = ANY($4::text[])),
          removed AS (SELECT old.id, old.customer_id, t AS tag, false AS added FROM old, unnest($4::text[]) t WHERE t = ANY(old.tags)),
          next AS (SELECT ARRAY(SELECT DISTINCT x FROM unnest(old.tags || ARRAY(SELECT tag FROM added)) x WHERE NOT x = ANY(ARRAY(SELECT tag FROM removed)) ORDER BY x) AS tags
                     FROM old),
          fits AS (SELECT cardinality(next.tags) <= $7::int AS ok FROM next),
          changes AS (SELECT c.* FROM (SELECT * FROM added UNION ALL SELECT * FROM removed) c, fits WHERE fits.ok),
          upd AS (UPDATE leads l SET tags = next.tags, updated_at = now()
                    FROM old, next WHERE l.id = old.id AND EXISTS (SELECT 1 FROM changes) RETURNING l.tags),
          ev AS (${eventInsert('changes', {
            type: "'lead.tagged'",
            customerId: 'changes.customer_id',
            leadId: 'changes.id',
            automationId: '$6::text',
            properties: "jsonb_build_object('tag', changes.tag, 'added', changes.added)",
            dedupeKey: "$5::text || ':' || CASE WHEN changes.added THEN '+' ELSE '-' END || changes.tag",
          })})
     SELECT coalesce((SELECT tags FROM upd), old.tags) AS tags,
            ARRAY(SELECT tag FROM changes WHERE changes.added ORDER BY tag) AS added,
            ARRAY(SELECT tag FROM changes WHERE NOT changes.added ORDER BY tag) AS removed,
            NOT (SELECT ok FROM fits) AS "tooMany"
       FROM old`,
    [leadId, customerId, change.add ?? [], change.remove ?? [], event.dedupeKey, event.automationId ?? null, MAX_LEAD_TAGS],
  )) as { tags: string[]; added: string[]; removed: string[]; tooMany: boolean }[];
  return row;
}

/** A lead by id alone, whichever of the tenant's customers it belongs to (an automation of the whole tenant acts on any). */
export async function findLeadById(m: EntityManager, id: string): Promise<LeadRow | undefined> {
  const [row] = (await m.query(`SELECT ${LEAD_COLUMNS} FROM leads WHERE id = $1`, [id])) as LeadRow[];
  return row;
}

/** How many of the tenant's leads are in each of these stages (stages no lead has are left out). */
export async function leadsInStages(m: EntityManager, stages: string[]): Promise<{ stage: string; leads: number }[]> {
  return (await m.query('SELECT stage, count(*)::int AS leads FROM leads WHERE stage = ANY($1::text[]) GROUP BY stage ORDER BY stage', [stages])) as {
    stage: string;
    leads: number;
  }[];
}

/** A lead as conditions read it (docs/automations.md, "Definitions and versions"): the run data's `lead`. */
export function conditionLead(l: LeadRow): NonNullable<RunData['lead']> {
  return {
    id: l.id,
    email: l.email,
    firstName: l.first_name,
    lastName: l.last_name,
    company: l.company,
    fields: l.fields,
    status: l.status,
    stage: l.stage,
    tags: l.tags,
  };
}
