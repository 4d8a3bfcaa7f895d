// The API as a client sees it: signed in with a session cookie, one customer
// named per request.
import http from 'node:http';
import { PASSWORD } from './seed';

// Calls go through node:http on kept-alive sockets rather than fetch: fetch
// costs the load generator about 1 ms of CPU a request (docs/performance.md),
// on the same two cores as the API it measures.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request to the stack (127.0.0.1) on a kept-alive socket: its status and body. */
export function request(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

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

  /** The signed-in session's headers, for a request made outside `call` (a streamed download). */
  headers(customerId?: string): Record<string, string> {
    return { cookie: this.cookie, ...(customerId ? { 'x-customer-id': customerId } : {}) };
  }

  async call<T = Record<string, unknown>>(method: string, path: string, customerId: string | undefined, body?: unknown, expect = [200, 201]): Promise<T> {
    const res = await request(
      `${this.base}${path}`,
      method,
      {
        cookie: this.cookie,
        ...(customerId ? { 'x-customer-id': customerId } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
    const { text } = res;
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

/** A streamed GET as a client reads a download: its status, bytes and lines, nothing kept. */
export function streamGet(url: string, headers: Record<string, string>): Promise<{ status: number; bytes: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent }, (res) => {
      let bytes = 0;
      let lines = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, lines }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}
