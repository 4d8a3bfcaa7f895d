import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { ClientInvoiceList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url, cookies }) => {
  requireTenant(locals.me, url);
  const customerId = url.searchParams.get('customer') ?? '';
  const invoiceId = url.searchParams.get('invoice') ?? '';
  const list = customerId ? await api<ClientInvoiceList>(cookies, '/api/client-billing/invoices?limit=100', { customerId }) : null;
  const invoice = list?.status === 200 ? (list.body.data.find((i) => i.id === invoiceId) ?? null) : null;
  return { customerId, invoice };
};

/** Local test mode's stand-in for the invoice's Stripe Checkout: paying posts the signed event Stripe would send to the Connect webhook. */
export const actions: Actions = {
  pay: async ({ request, cookies }) => {
    const f = await request.formData();
    const customerId = String(f.get('customerId') ?? '');
    const id = String(f.get('id') ?? '');
    const res = await api(cookies, `/api/client-billing/invoices/${encodeURIComponent(id)}/local-checkout`, { method: 'POST', customerId });
    if (res.status !== 200) return formFailure(res, 'pay');
    redirect(303, `/accounting/client-billing?customer=${encodeURIComponent(customerId)}&paid=${encodeURIComponent(id)}`);
  },
};
