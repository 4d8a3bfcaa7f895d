import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Billing, CheckoutSession, RedirectUrl } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const res = await api<Billing>(cookies, '/api/billing');
  return { billing: res.status === 200 ? res.body : null, status: res.status, checkout: url.searchParams.get('checkout') };
};

/** Checkout and the portal answer a URL: Stripe's, or in local test mode the console's own page. */
export const actions: Actions = {
  upgrade: async ({ request, cookies }) => {
    const plan = String((await request.formData()).get('plan') ?? '');
    const res = await api<CheckoutSession>(cookies, '/api/billing/checkout', { method: 'POST', body: { plan } });
    if (res.status !== 200) return formFailure(res, 'upgrade');
    redirect(303, res.body.url);
  },
  credits: async ({ request, cookies }) => {
    const pack = String((await request.formData()).get('pack') ?? '');
    const res = await api<CheckoutSession>(cookies, '/api/billing/credit-packs/checkout', { method: 'POST', body: { pack } });
    if (res.status !== 200) return formFailure(res, 'credits');
    redirect(303, res.body.url);
  },
  portal: async ({ cookies }) => {
    const res = await api<RedirectUrl>(cookies, '/api/billing/portal', { method: 'POST' });
    if (res.status !== 200) return formFailure(res, 'portal');
    redirect(303, res.body.url);
  },
};
