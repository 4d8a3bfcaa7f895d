import { env } from '$env/dynamic/private';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { InboxList, Onboarding } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
  const [inboxes, onboarding] = await Promise.all([
    selected ? api<InboxList>(cookies, `/api/inboxes?${query}`, { customerId: selected.id }) : null,
    api<Onboarding>(cookies, '/api/onboarding'),
  ]);
  // The embedded default's local SMTP sink, offered as the default server.
  const [sinkHost, sinkPort] = (env.SMTP_SINK_ADDRESS ?? '').split(':');
  // …and its local mail server, named in a hint (never filled in: a real mailbox is elsewhere).
  const [imapHost, imapPort] = (env.LOCAL_IMAP_ADDRESS ?? '').split(':');
  return {
    customers,
    selected,
    inboxes: inboxes?.status === 200 ? inboxes.body.data : [],
    nextCursor: inboxes?.status === 200 ? inboxes.body.nextCursor : null,
    // A new inbox's daily cap starts from the tenant's template default.
    defaultDailyCap: (onboarding.status === 200 ? onboarding.body.settings.defaultDailyCap : null) ?? 40,
    sink: sinkHost && sinkPort ? { host: sinkHost, port: sinkPort } : null,
    localImap: imapHost && imapPort ? { host: imapHost, port: imapPort } : null,
  };
};

export const actions: Actions = {
  add: async ({ request, cookies }) => {
    const f = await request.formData();
    const get = (k: string) => String(f.get(k) ?? '').trim();
    const values = {
      fromEmail: get('fromEmail'),
      fromName: get('fromName'),
      dailyCap: get('dailyCap'),
      host: get('host'),
      port: get('port'),
      user: get('user'),
    };
    const password = String(f.get('password') ?? '');
    const res = await api(cookies, '/api/inboxes', {
      method: 'POST',
      customerId: get('customerId'),
      body: {
        provider: 'smtp',
        fromEmail: values.fromEmail,
        fromName: values.fromName,
        dailyCap: Number(values.dailyCap),
        smtp: {
          host: values.host,
          port: Number(values.port),
          secure: f.get('secure') === 'on',
          ...(values.user ? { user: values.user } : {}),
          ...(password ? { password } : {}),
        },
      },
    });
    if (res.status !== 201) return formFailure(res, 'add', values);
    return { form: 'add', added: values.fromEmail };
  },
  cap: async ({ request, cookies }) => {
    const f = await request.formData();
    const id = String(f.get('inboxId') ?? '');
    const res = await api(cookies, `/api/inboxes/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      customerId: String(f.get('customerId') ?? ''),
      body: { dailyCap: Number(f.get('dailyCap') ?? 0) },
    });
    if (res.status !== 200) return formFailure(res, `inbox:${id}`);
    return { form: `inbox:${id}`, saved: true };
  },
  remove: async ({ request, cookies }) => {
    const f = await request.formData();
    const id = String(f.get('inboxId') ?? '');
    const res = await api(cookies, `/api/inboxes/${encodeURIComponent(id)}`, { method: 'DELETE', customerId: String(f.get('customerId') ?? '') });
    if (res.status !== 204) return formFailure(res, `remove:${id}`);
    return { form: 'removed', removed: String(f.get('fromEmail') ?? 'the inbox') };
  },
  imap: async ({ request, cookies }) => {
    const f = await request.formData();
    const id = String(f.get('inboxId') ?? '');
    const get = (k: string) => String(f.get(k) ?? '').trim();
    const values = { host: get('host'), port: get('port'), user: get('user'), secure: f.get('secure') === 'on' ? 'on' : '' };
    // An empty password keeps the stored one (the API asks for one when none is stored).
    const password = String(f.get('password') ?? '');
    const res = await api(cookies, `/api/inboxes/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      customerId: get('customerId'),
      body: {
        imap: {
          host: values.host,
          port: values.port ? Number(values.port) : undefined,
          secure: values.secure === 'on',
          user: values.user,
          ...(password ? { password } : {}),
        },
      },
    });
    if (res.status !== 200) return formFailure(res, `imap:${id}`, values);
    return { form: `imap:${id}`, imapSaved: true };
  },
  imapStop: async ({ request, cookies }) => {
    const f = await request.formData();
    const id = String(f.get('inboxId') ?? '');
    const res = await api(cookies, `/api/inboxes/${encodeURIComponent(id)}`, {
      method: 'PATCH',
      customerId: String(f.get('customerId') ?? ''),
      body: { imap: null },
    });
    if (res.status !== 200) return formFailure(res, `imapStop:${id}`);
    return { form: `imapStop:${id}`, stopped: true };
  },
};
