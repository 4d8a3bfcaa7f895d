import { redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { Billing, ClientInvoice, ClientInvoiceList, ConnectStatus, RedirectUrl } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const status = await api<ConnectStatus>(cookies, '/api/client-billing/connect/status');
  const billing = await api<Billing>(cookies, '/api/billing');
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
  const invoices = selected ? await api<ClientInvoiceList>(cookies, `/api/client-billing/invoices?${query}`, { customerId: selected.id }) : null;
  return {
    connect: status.status === 200 ? status.body : null,
    localMode: billing.status === 200 && billing.body.localMode,
    customers,
    selected,
    invoices: invoices?.status === 200 ? invoices.body.data : [],
    nextCursor: invoices?.status === 200 ? invoices.body.nextCursor : null,
    paid: url.searchParams.get('paid'),
  };
};

export const actions: Actions = {
  connect: async ({ cookies }) => {
    const res = await api<RedirectUrl>(cookies, '/api/client-billing/connect/start', { method: 'POST' });
    if (res.status !== 200) return formFailure(res, 'connect');
    redirect(303, res.body.url);
  },
  invoice: async ({ request, cookies }) => {
    const f = await request.formData();
    const customerId = String(f.get('customerId') ?? '');
    const amount = Math.round(Number(f.get('amount') ?? 0) * 100);
    const body = {
      currency: String(f.get('currency') ?? 'eur'),
      lines: [{ description: String(f.get('description') ?? ''), amountCents: amount, quantity: 1 }],
    };
    const res = await api<ClientInvoice>(cookies, '/api/client-billing/invoices', { method: 'POST', body, customerId });
    if (res.status !== 201) return formFailure(res, 'invoice', Object.fromEntries(f));
    return { form: 'invoice', created: res.body.id };
  },
  checkout: async ({ request, cookies }) => {
    const f = await request.formData();
    const id = String(f.get('id') ?? '');
    const res = await api<ClientInvoice>(cookies, `/api/client-billing/invoices/${encodeURIComponent(id)}/checkout`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, 'checkout');
    return { form: 'checkout', url: res.body.checkoutUrl };
  },
};
