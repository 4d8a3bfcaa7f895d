import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
  requireTenant(locals.me, url);
  return {};
};

/** Local test mode's stand-in for Stripe's Express onboarding: finishing posts the signed event Stripe would send to the Connect webhook. */
export const actions: Actions = {
  complete: async ({ cookies }) => {
    const res = await api(cookies, '/api/client-billing/connect/local-onboarding', { method: 'POST' });
    if (res.status !== 200) return formFailure(res, 'complete');
    redirect(303, '/accounting/client-billing?onboarding=done');
  },
};
