import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { Outbox, OutboxMessage, SinkCopy } from '$lib/types';
import type { PageServerLoad } from './$types';

export type { OutboxMessage };

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const cursor = url.searchParams.get('cursor') ?? '';
  const res = selected
    ? await api<Outbox>(cookies, `/api/outbox?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        customerId: selected.id,
      })
    : null;
  // ?show=msg_…: the message as the local SMTP sink received it.
  const show = url.searchParams.get('show') ?? '';
  const received = selected && show ? await api<SinkCopy>(cookies, `/api/outbox/${encodeURIComponent(show)}/received`, { customerId: selected.id }) : null;
  return {
    customers,
    selected,
    messages: res?.status === 200 ? res.body.data : [],
    nextCursor: res?.status === 200 ? res.body.nextCursor : null,
    received: received?.status === 200 ? received.body : null,
  };
};
