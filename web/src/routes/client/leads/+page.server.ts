import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { sortParam } from '$lib/lists';
import type { LeadList } from '$lib/types';
import type { PageServerLoad } from './$types';

const STATUSES = ['active', 'replied', 'bounced', 'unsubscribed'] as const;
const TAG = /^[a-z0-9][a-z0-9_:-]{0,39}$/;
const isStatus = (s: string): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s);

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const status = url.searchParams.get('status') ?? '';
  const cursor = url.searchParams.get('cursor') ?? '';
  const stagesRes = await api<{ data: string[] }>(cookies, '/api/leads/stages');
  const stages = stagesRes.status === 200 ? stagesRes.body.data : [];
  const stage = url.searchParams.get('stage') ?? '';
  // A tag is lower-case; what cannot be one is no filter at all rather than an error.
  const tag = (url.searchParams.get('tag') ?? '').trim().toLowerCase();
  const filter = {
    q,
    status: isStatus(status) ? status : '',
    stage: stages.includes(stage) ? stage : '',
    tag: TAG.test(tag) ? tag : '',
    sort: sortParam(url, ['email', 'created'], 'created'),
  };
  if (!selected) return { customers, selected, leads: { data: [], nextCursor: null }, filter, statuses: STATUSES, stages, failed: false };
  const query = new URLSearchParams({
    limit: '25',
    sort: filter.sort,
    ...(q ? { q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(filter.stage ? { stage: filter.stage } : {}),
    ...(filter.tag ? { tag: filter.tag } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const res = await api<LeadList>(cookies, `/api/leads?${query}`, { customerId: selected.id });
  return {
    customers,
    selected,
    leads: res.status === 200 ? res.body : { data: [], nextCursor: null },
    filter,
    statuses: STATUSES,
    stages,
    failed: res.status !== 200,
  };
};
