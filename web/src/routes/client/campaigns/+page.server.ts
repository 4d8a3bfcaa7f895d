import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { Campaign, CampaignList, InboxList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export type CampaignSummary = Campaign;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) return { customers, selected, campaigns: [], inboxes: [], zones: [] };
  const [campaigns, inboxes] = await Promise.all([
    api<CampaignList>(cookies, '/api/campaigns?limit=200', { customerId: selected.id }),
    api<InboxList>(cookies, '/api/inboxes?limit=200', { customerId: selected.id }),
  ]);
  return {
    customers,
    selected,
    campaigns: campaigns.status === 200 ? campaigns.body.data : [],
    inboxes: inboxes.status === 200 ? inboxes.body.data : [],
    // The zones the API accepts (it validates with the same Intl).
    zones: Intl.supportedValuesOf('timeZone'),
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
      },
    });
    if (res.status !== 201) return formFailure(res, 'create', values);
    redirect(303, `/client/campaigns/${res.body.id}`);
  },
};
