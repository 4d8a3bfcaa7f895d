import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/guard';
import { temporalUi } from '$lib/server/temporalUi';
import type { IndustryTemplates, Registered, TenantList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requirePlatformAdmin(locals.me, url);
  const ui = temporalUi();
  const [tenants, industries] = await Promise.all([api<TenantList>(cookies, '/api/tenants'), api<IndustryTemplates>(cookies, '/api/industry-templates')]);
  return {
    tenants: tenants.status === 200 ? tenants.body.data : [],
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
