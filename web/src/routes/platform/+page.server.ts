import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/guard';
import { temporalUi } from '$lib/server/temporalUi';
import type { IndustryTemplates, Registered, TenantList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

const PAGE_SIZE = 50;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requirePlatformAdmin(locals.me, url);
  const ui = temporalUi();
  // The list is paged by cursor and searched by name or slug; the query string holds both, so it works without JavaScript.
  const q = (url.searchParams.get('q') ?? '').trim();
  const cursor = url.searchParams.get('cursor') ?? '';
  const searchError = q.length > 200 ? 'Search with at most 200 characters.' : null;
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (q && !searchError) params.set('q', q);
  if (cursor) params.set('cursor', cursor);
  const [tenants, industries] = await Promise.all([
    searchError ? Promise.resolve(null) : api<TenantList>(cookies, `/api/tenants?${params}`),
    api<IndustryTemplates>(cookies, '/api/industry-templates'),
  ]);
  return {
    tenants: tenants?.status === 200 ? tenants.body.data : [],
    nextCursor: tenants?.status === 200 ? tenants.body.nextCursor : null,
    q,
    paged: Boolean(cursor),
    searchError,
    listError:
      tenants && tenants.status !== 200
        ? tenants.status === 400
          ? 'That page link is no longer valid: start again from the newest tenants.'
          : 'The tenants could not be loaded; try again in a moment.'
        : null,
    industries: industries.status === 200 ? industries.body.data : [],
    temporalUi: ui.base,
    namespace: ui.namespace,
  };
};

export const actions: Actions = {
  register: async ({ request, cookies }) => {
    const f = await request.formData();
    const get = (k: string) => String(f.get(k) ?? '').trim();
    const values = {
      name: get('name'),
      slug: get('slug'),
      externalCustomerId: get('externalCustomerId'),
      industry: get('industry'),
      ownerEmail: get('ownerEmail'),
      ownerName: get('ownerName'),
    };
    const password = String(f.get('ownerPassword') ?? '');
    const res = await api<Registered>(cookies, '/api/tenants', {
      method: 'POST',
      body: {
        name: values.name,
        slug: values.slug,
        externalCustomerId: values.externalCustomerId,
        industry: values.industry,
        owner: { email: values.ownerEmail, name: values.ownerName, ...(password ? { password } : {}) },
      },
    });
    if (res.status !== 202 && res.status !== 200) return formFailure(res, 'register', values);
    redirect(303, `/platform/tenants/${res.body.tenant.id}`);
  },
};
