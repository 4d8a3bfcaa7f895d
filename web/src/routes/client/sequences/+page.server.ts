import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { Sequence, SequenceList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const q = (url.searchParams.get('q') ?? '').trim();
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '50', ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
  const sequences = selected ? await api<SequenceList>(cookies, `/api/sequences?${query}`, { customerId: selected.id }) : null;
  return {
    customers,
    selected,
    q,
    sequences: sequences?.status === 200 ? sequences.body.data : [],
    nextCursor: sequences?.status === 200 ? sequences.body.nextCursor : null,
  };
};

export const actions: Actions = {
  create: async ({ request, cookies }) => {
    const f = await request.formData();
    const customerId = String(f.get('customerId') ?? '');
    const name = String(f.get('name') ?? '');
    const res = await api<Sequence>(cookies, '/api/sequences', { method: 'POST', body: { name }, customerId });
    if (res.status !== 201) return formFailure(res, 'create', { name });
    redirect(303, `/client/sequences/${res.body.id}?customer=${encodeURIComponent(customerId)}`);
  },
};
