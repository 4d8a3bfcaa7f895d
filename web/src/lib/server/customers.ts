// The customer picker's server side: customers come from the API only — never a
// made-up "default" one. The choice is remembered in a cookie and honoured only
// while it names one of the caller's customers.
import type { Cookies } from '@sveltejs/kit';
import { api } from './api';
import type { CustomerList } from '$lib/types';

export const CUSTOMER_COOKIE = 'tf_customer';

export interface CustomerOption {
  id: string;
  name: string;
}

export async function pickCustomer(cookies: Cookies, requested: string | null): Promise<{ customers: CustomerOption[]; selected: CustomerOption | null }> {
  const res = await api<CustomerList>(cookies, '/api/customers?limit=200');
  const customers = res.status === 200 ? res.body.data.map((c) => ({ id: c.id, name: c.name })) : [];
  const wanted = requested ?? cookies.get(CUSTOMER_COOKIE) ?? '';
  const selected = customers.find((c) => c.id === wanted) ?? customers[0] ?? null;
  if (selected) cookies.set(CUSTOMER_COOKIE, selected.id, { path: '/', httpOnly: true, sameSite: 'lax', maxAge: 60 * 60 * 24 * 90 });
  else cookies.delete(CUSTOMER_COOKIE, { path: '/' });
  return { customers, selected };
}
