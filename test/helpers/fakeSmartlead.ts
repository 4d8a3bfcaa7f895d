// A local HTTP server that follows the Smartlead-style admin contract the
// provider client uses (docs/providers.md): the live API cannot be reached
// from here, so the client is tested at its HTTP boundary against this.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';

interface Account {
  id: number;
  from_email: string;
  from_name: string;
  message_per_day: number;
  warmup_details: { status: string };
}

export interface FakeSmartlead {
  baseUrl: string;
  adminKey: string;
  clients: { id: number; name: string }[];
  accounts: Map<number, Account[]>;
  calls: Record<string, number>;
  /** The next client creation succeeds on the provider but answers 500 (a crash after the provider accepted). */
  failAfterNextCreate: boolean;
  /** Messages accepted by `POST /messages`, one per Idempotency-Key. */
  messages: { id: string; clientId: number; idempotencyKey: string; body: Record<string, unknown> }[];
  /** The next send is accepted but answered with 500 (the caller cannot know it went out). */
  failAfterNextSend: boolean;
  /** Issues a client API key directly (tests that skip capability provisioning). */
  issueClientKey(clientId: number): string;
  stop(): Promise<void>;
}

export async function startFakeSmartlead(): Promise<FakeSmartlead> {
  const adminKey = `sl_admin_${randomBytes(6).toString('hex')}`;
  const keys = new Map<string, number>();
  let nextId = 1000;
  const state: Omit<FakeSmartlead, 'baseUrl' | 'stop'> = {
    adminKey,
    clients: [],
    accounts: new Map(),
    calls: {},
    failAfterNextCreate: false,
    messages: [],
    failAfterNextSend: false,
    issueClientKey(clientId) {
      const apiKey = `sl_client_${randomBytes(12).toString('hex')}`;
      keys.set(apiKey, clientId);
      return apiKey;
    },
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const key = url.searchParams.get('api_key') ?? '';
    const route = `${req.method} ${url.pathname}`;
    state.calls[route] = (state.calls[route] ?? 0) + 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      if (route === 'POST /messages') {
        // The send contract (docs/providers.md): a repeated Idempotency-Key returns the first message.
        const clientId = keys.get(key);
        if (clientId === undefined) return send(401, { error: 'invalid api key' });
        const idempotencyKey = String(req.headers['idempotency-key'] ?? '');
        if (!idempotencyKey) return send(400, { error: 'Idempotency-Key is required' });
        if (!body.to_email || !body.subject) return send(422, { error: 'to_email and subject are required' });
        const existing = state.messages.find((m) => m.clientId === clientId && m.idempotencyKey === idempotencyKey);
        if (existing) return send(200, { id: existing.id, duplicate: true });
        const message = { id: `slm_${randomBytes(6).toString('hex')}`, clientId, idempotencyKey, body };
        state.messages.push(message);
        if (state.failAfterNextSend) {
          state.failAfterNextSend = false;
          return send(502, { error: 'bad gateway' });
        }
        return send(200, { id: message.id });
      }
      if (route === 'GET /email-accounts/') {
        const clientId = keys.get(key);
        if (clientId === undefined) return send(401, { error: 'invalid api key' });
        const offset = Number(url.searchParams.get('offset') ?? 0);
        const limit = Number(url.searchParams.get('limit') ?? 100);
        return send(200, (state.accounts.get(clientId) ?? []).slice(offset, offset + limit));
      }
      if (key !== adminKey) return send(401, { error: 'invalid api key' });
      if (route === 'GET /client/') return send(200, state.clients);
      if (route === 'POST /client/save') {
        const id = nextId++;
        state.clients.push({ id, name: String(body.name) });
        state.accounts.set(
          id,
          [1, 2].map((n) => ({
            id: id * 10 + n,
            from_email: `sender${n}@client${id}.example`,
            from_name: `Sender ${n}`,
            message_per_day: 30 + n,
            warmup_details: { status: n === 1 ? 'ACTIVE' : 'INACTIVE' },
          })),
        );
        if (state.failAfterNextCreate) {
          state.failAfterNextCreate = false;
          return send(500, { error: 'gateway timeout' });
        }
        return send(200, { ok: true, clientId: id, name: body.name });
      }
      if (route === 'POST /client/api-key') {
        const apiKey = `sl_client_${randomBytes(12).toString('hex')}`;
        keys.set(apiKey, Number(body.client_id));
        return send(200, { ok: true, data: { api_key: apiKey } });
      }
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    baseUrl: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
