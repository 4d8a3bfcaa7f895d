import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can } from '$lib/types';
import { sortParam } from '$lib/lists';
import type { Campaign, CampaignList, InboxList, Onboarding } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

const STATUSES = ['draft', 'active', 'paused', 'completed', 'archived'] as const;
const isStatus = (s: string): s is (typeof STATUSES)[number] => (STATUSES as readonly string[]).includes(s);

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const status = url.searchParams.get('status') ?? '';
  const filter = { q, status: isStatus(status) ? status : '', sort: sortParam(url, ['name', 'status', 'created'], '-created') };
  const empty = {
    customers,
    selected,
    campaigns: [] as Campaign[],
    nextCursor: null as string | null,
    inboxes: [] as InboxList['data'],
    zones: [] as string[],
    defaults: null as Onboarding['settings'] | null,
    filter,
    statuses: STATUSES,
    failed: false,
  };
  if (!selected) return empty;
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({
    limit: '25',
    sort: filter.sort,
    ...(q ? { q } : {}),
    ...(filter.status ? { status: filter.status } : {}),
    ...(cursor ? { cursor } : {}),
  });
  // The inboxes, the tenant's defaults and the zones fill the new-campaign form only: a member who cannot write is spared them.
  const writes = can(locals.me, 'campaigns.write');
  const [campaigns, inboxes, onboarding] = await Promise.all([
    api<CampaignList>(cookies, `/api/campaigns?${query}`, { customerId: selected.id }),
    writes ? api<InboxList>(cookies, '/api/inboxes?limit=200', { customerId: selected.id }) : null,
    writes ? api<Onboarding>(cookies, '/api/onboarding') : null,
  ]);
  return {
    ...empty,
    // The tenant's template defaults: a new campaign's zone, days and window start from them.
    defaults: onboarding?.status === 200 ? onboarding.body.settings : null,
    campaigns: campaigns.status === 200 ? campaigns.body.data : [],
    nextCursor: campaigns.status === 200 ? campaigns.body.nextCursor : null,
    failed: campaigns.status !== 200,
    inboxes: inboxes?.status === 200 ? inboxes.body.data : [],
    // The zones the API accepts (it validates with the same Intl).
    zones: writes ? Intl.supportedValuesOf('timeZone') : [],
  };
};

export const actions: Actions = {
  create: async ({ request, cookies }) => {
    const f = await request.formData();
    const get = (k: string) => String(f.get(k) ?? '').trim();
    const values = { name: get('name'), timezone: get('timezone'), start: get('start'), end: get('end') };
    const res = await api<Campaign>(cookies, '/api/campaigns', {
      method: 'POST',
      customerId: get('customerId'),
      body: {
        name: values.name,
        inboxIds: f.getAll('inboxIds').map(String),
        schedule: { timezone: values.timezone, days: f.getAll('days').map(Number), start: values.start, end: values.end },
        tracking: f.get('tracking') === 'on',
      },
    });
    if (res.status !== 201) return formFailure(res, 'create', values);
    redirect(303, `/client/campaigns/${res.body.id}`);
  },
};
