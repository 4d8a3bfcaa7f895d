// Outreach things seeded through the running product's API for the console's
// browser tests, with a session signed in as a person would (fetch, no agent:
// the product runs in its own processes).
import { PASSWORD } from './fixtures';

/** Signs in through the API; the console takes the same `tf_session` cookie. Returns `tf_session=…`. */
export async function apiSession(apiUrl: string, email: string, password = PASSWORD): Promise<string> {
  const res = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tf_session='));
  if (res.status !== 200 || !cookie) throw new Error(`sign-in of ${email} answered ${res.status}`);
  return cookie.split(';')[0]!;
}

/** One API call with a session cookie (and a customer, for customer-scoped routes); throws unless it succeeds. */
export async function apiCall<T>(apiUrl: string, cookie: string | null, method: string, url: string, body?: unknown, customerId?: string): Promise<T> {
  const res = await fetch(`${apiUrl}${url}`, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(cookie ? { cookie } : {}),
      ...(customerId ? { 'x-customer-id': customerId } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface OutreachSeeds {
  inboxId: string;
  campaignId: string;
  leadId: string;
  sequenceId: string;
  stepId: string;
}

/** An SMTP inbox on the local sink, a campaign with one lead, and a one-step sequence, all of one customer. */
export async function seedOutreach(apiUrl: string, cookie: string, customerId: string, smtpPort: number): Promise<OutreachSeeds> {
  const call = <T>(method: string, url: string, body?: unknown) => apiCall<T>(apiUrl, cookie, method, url, body, customerId);
  const inbox = await call<{ id: string }>('POST', '/api/inboxes', {
    provider: 'smtp',
    fromEmail: `seeded-${Math.random().toString(36).slice(2, 8)}@agency.example`,
    fromName: 'Seeded Sales',
    dailyCap: 10,
    smtp: { host: '127.0.0.1', port: smtpPort, secure: false },
  });
  const schedule = { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
  const campaign = await call<{ id: string }>('POST', '/api/campaigns', { name: 'Seeded campaign', inboxIds: [inbox.id], schedule });
  await call('POST', `/api/campaigns/${campaign.id}/leads`, { leads: [{ email: 'lead@seeded.example', firstName: 'Lee', company: 'Seeded Co' }] });
  const leads = await call<{ data: { id: string }[] }>('GET', '/api/leads?limit=1');
  const sequence = await call<{ id: string }>('POST', '/api/sequences', { name: 'Seeded sequence' });
  const step = await call<{ id: string }>('POST', `/api/sequences/${sequence.id}/steps`, {
    subject: 'Hello {{firstName}}',
    body: 'Hi {{firstName}}.',
    delayHours: 0,
  });
  return { inboxId: inbox.id, campaignId: campaign.id, leadId: leads.data[0]!.id, sequenceId: sequence.id, stepId: step.id };
}
