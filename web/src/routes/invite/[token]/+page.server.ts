// Accepting an invitation (or confirming a sign-up's address) from its
// e-mailed link: a new or unverified account chooses its password; a verified
// account enters its own.
import { api, formFailure } from '$lib/server/api';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async () => ({});

export const actions: Actions = {
  default: async ({ request, cookies, params }) => {
    const form = await request.formData();
    const password = String(form.get('password') ?? '');
    const res = await api(cookies, '/api/auth/accept-invite', { method: 'POST', body: { token: params.token, password } });
    if (res.status !== 204) return formFailure(res, 'accept');
    return { form: 'accept', accepted: true };
  },
};
