import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { sortParam } from '$lib/lists';
import type { CustomerList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const cursor = url.searchParams.get('cursor');
  const q = url.searchParams.get('q');
  const sort = sortParam(url, ['name', 'created'], 'name');
  const params = new URLSearchParams({ limit: '25', sort, ...(cursor ? { cursor } : {}), ...(q ? { q } : {}) });
  const res = await api<CustomerList>(cookies, `/api/customers?${params}`);
  return { customers: res.status === 200 ? res.body : { data: [], nextCursor: null }, q: q ?? '', sort, status: res.status };
};

export const actions: Actions = {
  create: async ({ request, cookies }) => {
    const name = String((await request.formData()).get('name') ?? '');
    const res = await api(cookies, '/api/customers', { method: 'POST', body: { name } });
    if (res.status !== 201) return formFailure(res, 'create', { name });
    return { form: 'create', created: name };
  },
  delete: async ({ request, cookies }) => {
    const id = String((await request.formData()).get('id') ?? '');
    const found = await api<{ name: string }>(cookies, `/api/customers/${encodeURIComponent(id)}`);
    const res = await api(cookies, `/api/customers/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status !== 204) return formFailure(res, 'delete', { id });
    return { form: 'delete', id, deleted: found.status === 200 ? found.body.name : 'the customer' };
  },
};
