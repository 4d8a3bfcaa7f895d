import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Billing } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
  requireTenant(locals.me, url);
  const billing = await api<Billing>(cookies, '/api/billing');
  return { plan: url.searchParams.get('plan'), pack: url.searchParams.get('pack'), localMode: billing.status === 200 && billing.body.localMode };
};

/** Local test mode's stand-in for Stripe Checkout: "paying" posts the signed events Stripe would send to the real webhook. */
export const actions: Actions = {
  pay: async ({ request, cookies }) => {
    const f = await request.formData();
    const plan = f.get('plan');
    const pack = f.get('pack');
    const res = await api(cookies, '/api/billing/local-checkout', { method: 'POST', body: plan ? { plan: String(plan) } : { pack: String(pack) } });
    if (res.status !== 200) return formFailure(res, 'pay');
    redirect(303, '/accounting/billing?checkout=done');
  },
};
