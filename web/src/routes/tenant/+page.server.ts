import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => redirect(303, '/');

export const actions: Actions = {
  switch: async ({ request, cookies, url }) => {
    const form = await request.formData();
    const res = await api(
      cookies,
      '/api/auth/switch-tenant',
      { method: 'POST', body: { tenantId: String(form.get('tenantId') ?? '') } },
      url.protocol === 'https:',
    );
    if (res.status !== 200) return formFailure(res, 'switch');
    redirect(303, '/');
  },
};
