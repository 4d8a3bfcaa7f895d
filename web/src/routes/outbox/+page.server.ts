import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { PageServerLoad } from './$types';

export interface OutboxMessage {
  id: string;
  campaignId: string;
  campaignName: string;
  step: number;
  status: string;
  from: string | null;
  to: string;
  subject: string;
  body: string;
  error: string | null;
  sentAt: string | null;
  scheduledAt: string | null;
  sinkCopies: number | null;
}

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const cursor = url.searchParams.get('cursor') ?? '';
  const res = selected
    ? await api<{ data: OutboxMessage[]; nextCursor: string | null }>(cookies, `/api/outbox?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        customerId: selected.id,
      })
    : null;
  // ?show=msg_…: the message as the local SMTP sink received it.
  const show = url.searchParams.get('show') ?? '';
  const received =
    selected && show
      ? await api<{ id: string; copies: number; raw: string }>(cookies, `/api/outbox/${encodeURIComponent(show)}/received`, { customerId: selected.id })
      : null;
  return {
    customers,
    selected,
    messages: res?.status === 200 ? res.body.data : [],
    nextCursor: res?.status === 200 ? res.body.nextCursor : null,
    received: received?.status === 200 ? received.body : null,
  };
};
