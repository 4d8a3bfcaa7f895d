// The audit log: GET /api/audit with its filters as a plain GET form (the
// query string is the state, so it works without JavaScript and a filtered
// page can be bookmarked), paged by cursor, newest first.
import { api } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { can } from '$lib/types';
import type { ApiErrorBody, AuditList, MemberList, RoleList, TokenList } from '$lib/types';
import type { PageServerLoad } from './$types';

const PAGE_SIZE = 25;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The filter form's fields, as the query string carries them. */
export interface AuditFilters {
  action: string;
  outcome: string;
  actor: string;
  from: string;
  to: string;
}

function validDay(s: string): boolean {
  return DAY.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && s >= '0001-01-01';
}

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  const me = requireTenant(locals.me, url);
  const q = (k: string) => (url.searchParams.get(k) ?? '').trim();
  const filters: AuditFilters = { action: q('action'), outcome: q('outcome'), actor: q('actor'), from: q('from'), to: q('to') };
  const cursor = q('cursor');
  const errors: Record<string, string> = {};
  if (filters.from && !validDay(filters.from)) errors.from = 'Enter a date like 2026-03-31.';
  if (filters.to && !validDay(filters.to)) errors.to = 'Enter a date like 2026-03-31.';
  if (!errors.from && !errors.to && filters.from && filters.to && filters.from > filters.to) errors.to = 'The end date is before the start date.';

  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (filters.action) params.set('action', filters.action);
  if (filters.outcome) params.set('outcome', filters.outcome);
  if (filters.actor) params.set('actorUserId', filters.actor);
  // Days are whole UTC days: from its first millisecond to its last.
  if (filters.from && !errors.from) params.set('since', `${filters.from}T00:00:00.000Z`);
  if (filters.to && !errors.to && !errors.from) params.set('until', `${filters.to}T23:59:59.999Z`);
  if (cursor) params.set('cursor', cursor);

  const [log, members, tokens, roles] = await Promise.all([
    Object.keys(errors).length ? Promise.resolve(null) : api<AuditList>(cookies, `/api/audit?${params}`),
    can(me, 'members.read') ? api<MemberList>(cookies, '/api/members?limit=200') : Promise.resolve(null),
    can(me, 'tokens.manage') ? api<TokenList>(cookies, '/api/tokens') : Promise.resolve(null),
    can(me, 'roles.read') ? api<RoleList>(cookies, '/api/roles') : Promise.resolve(null),
  ]);

  let message: string | null = null;
  if (log && log.status !== 200) {
    const details = (log.body as unknown as ApiErrorBody | undefined)?.error?.details;
    const fields: Record<string, keyof AuditFilters> = { action: 'action', outcome: 'outcome', actorUserId: 'actor', since: 'from', until: 'to' };
    if (log.status === 400 && Array.isArray(details) && details.some((d) => fields[d.path])) {
      for (const d of details) if (fields[d.path]) errors[fields[d.path]!] = 'This value is not one the log can be filtered by.';
    } else if (log.status === 400) {
      message = 'That page link is no longer valid: start again from the newest entries.';
    } else {
      message = 'The audit log could not be loaded; try again in a moment.';
    }
  }

  const names: Record<string, string> = {};
  const actors: { id: string; name: string }[] = [];
  if (members?.status === 200) {
    for (const m of members.body.data) {
      names[m.user.id] = m.user.name || m.user.email;
      names[m.id] = m.user.name || m.user.email;
      actors.push({ id: m.user.id, name: `${m.user.name} (${m.user.email})` });
    }
  }
  if (tokens?.status === 200) for (const t of tokens.body.data) names[t.id] = t.name;
  if (roles?.status === 200) for (const r of roles.body.data) names[r.id] = r.name;
  if (me.user) names[me.user.id] = me.user.name || me.user.email;

  return {
    filters,
    errors,
    message,
    filtered: Object.values(filters).some(Boolean),
    entries: log?.status === 200 ? log.body.data : [],
    nextCursor: log?.status === 200 ? log.body.nextCursor : null,
    paged: Boolean(cursor),
    names,
    actors,
    /** Without members.read the log cannot name people: it says "a member" rather than guess. */
    membersKnown: members?.status === 200,
  };
};
