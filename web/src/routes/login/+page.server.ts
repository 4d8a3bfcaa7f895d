import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { safeNext } from '$lib/safeNext';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  if (locals.me) redirect(303, '/');
  return {};
};

export const actions: Actions = {
  default: async ({ request, cookies, url, getClientAddress }) => {
    const form = await request.formData();
    const email = String(form.get('email') ?? '');
    const password = String(form.get('password') ?? '');
    const res = await api(
      cookies,
      '/api/auth/login',
      { method: 'POST', body: { email, password }, clientAddress: getClientAddress() },
      url.protocol === 'https:' || undefined,
    );
    if (res.status !== 200) return formFailure(res, 'login', { email });
    redirect(303, safeNext(url.searchParams.get('next')));
  },
};
