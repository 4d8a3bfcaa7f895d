import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { sortParam } from '$lib/lists';
import type { LeadList } from '$lib/types';
import type { PageServerLoad } from './$types';

const STATUSES = ['active', 'replied', 'bounced', 'unsubscribed'] as const;
const isStatus = (s: string): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s);

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const status = url.searchParams.get('status') ?? '';
  const cursor = url.searchParams.get('cursor') ?? '';
  const filter = { q, status: isStatus(status) ? status : '', sort: sortParam(url, ['email', 'created'], 'created') };
  if (!selected) return { customers, selected, leads: { data: [], nextCursor: null }, filter, statuses: STATUSES, failed: false };
  const query = new URLSearchParams({
    limit: '25',
    sort: filter.sort,
    ...(q ? { q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(cursor ? { cursor } : {}),
  });
  const res = await api<LeadList>(cookies, `/api/leads?${query}`, { customerId: selected.id });
  return {
    customers,
    selected,
    leads: res.status === 200 ? res.body : { data: [], nextCursor: null },
    filter,
    statuses: STATUSES,
    failed: res.status !== 200,
  };
};
