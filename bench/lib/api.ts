// The API as a client sees it: signed in with a session cookie, one customer
// named per request.
import { PASSWORD } from './seed';

export class BenchApi {
  private cookie = '';
  constructor(readonly base: string) {}

  async signIn(email: string): Promise<void> {
    const res = await fetch(`${this.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
    this.cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
  }

  async call<T = Record<string, unknown>>(method: string, path: string, customerId: string | undefined, body?: unknown, expect = [200, 201]): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        cookie: this.cookie,
        ...(customerId ? { 'x-customer-id': customerId } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!expect.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : {}) as T;
  }
}

export const ALWAYS_OPEN = { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

/** An SMTP inbox that sends to the stack's local sink, with a cap no benchmark reaches. */
export async function sinkInbox(api: BenchApi, customerId: string, sinkPort: number): Promise<string> {
  const r = await api.call<{ id: string }>('POST', '/api/inboxes', customerId, {
    provider: 'smtp',
    fromEmail: `bench-${Math.random().toString(36).slice(2, 8)}@agency.example`,
    fromName: 'Bench',
    dailyCap: 10_000,
    smtp: { host: '127.0.0.1', port: sinkPort, secure: false },
  });
  return r.id;
}

export async function campaignWithSequence(
  api: BenchApi,
  customerId: string,
  inboxId: string,
  name: string,
  steps: { subject: string; body: string; delayHours: number }[],
): Promise<string> {
  const c = await api.call<{ id: string }>('POST', '/api/campaigns', customerId, { name, inboxIds: [inboxId], schedule: ALWAYS_OPEN });
  await api.call('POST', `/api/campaigns/${c.id}/sequence`, customerId, { steps });
  return c.id;
}
