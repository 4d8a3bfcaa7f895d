// Webhook calls under the outbound policy: internal destinations are refused
// before any connection — named directly, behind a public-looking name, or
// at the end of a redirect — the connection goes to the checked address, and
// every delivery is signed so a Standard Webhooks verifier accepts it.
import { webcrypto } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { NO_EXCEPTIONS, parseOutboundAllowlist } from './outbound';
import { postWebhook, signStandardWebhook, WEBHOOK_MAX_REDIRECTS, WEBHOOK_RESPONSE_CAP_BYTES } from './webhookCall';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A recording server on 127.0.0.1 whose answers the test chooses. */
async function recorder(answer: (req: Received, res: http.ServerResponse) => void) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body };
      received.push(r);
      answer(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    received,
    port,
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const SECRET = `whsec_${Buffer.from('a secret of thirty-two bytes!!!!').toString('base64')}`;
const LOCAL = parseOutboundAllowlist('127.0.0.1');
/** A public-looking name that resolves where the test says. */
const resolvesTo =
  (...addresses: string[]) =>
  async () =>
    addresses;

/** The Standard Webhooks verification, written from the scheme's description with WebCrypto. */
async function referenceVerify(secret: string, headers: Record<string, string | string[] | undefined>, body: string): Promise<boolean> {
  const id = String(headers['webhook-id']);
  const timestamp = String(headers['webhook-timestamp']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = await webcrypto.subtle.importKey('raw', Buffer.from(secret.split('_')[1]!, 'base64'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = Buffer.from(await webcrypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`))).toString('base64');
  return String(headers['webhook-signature'])
    .split(' ')
    .some((s) => s === `v1,${mac}`);
}

describe('signing', () => {
  it('matches the Standard Webhooks test vector', () => {
    expect(signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('signs every delivery so a reference verifier accepts it, and the Host is the name, not the address', async () => {
    const server = await recorder((_r, res) => res.writeHead(204).end());
    try {
      const body = JSON.stringify({ type: 'automation.webhook_call', data: { ü: 'ß' } });
      const outcome = await postWebhook({
        url: `http://hooks.example.test:${server.port}/hook?x=1`,
        body,
        id: 'arun_1:0',
        secret: SECRET,
        policy: LOCAL,
        resolve: resolvesTo('127.0.0.1'),
      });
      expect(outcome).toMatchObject({ kind: 'answered', status: 204 });
      const [got] = server.received;
      expect(got).toMatchObject({ method: 'POST', url: '/hook?x=1', body });
      expect(got!.headers.host).toBe(`hooks.example.test:${server.port}`);
      expect(got!.headers['webhook-id']).toBe('arun_1:0');
      expect(await referenceVerify(SECRET, got!.headers, got!.body)).toBe(true);
      expect(await referenceVerify(`whsec_${Buffer.from('another secret').toString('base64')}`, got!.headers, got!.body)).toBe(false);
    } finally {
      await server.close();
    }
  });
});

describe('the outbound policy', () => {
  let server: Awaited<ReturnType<typeof recorder>>;
  beforeAll(async () => {
    server = await recorder((_r, res) => res.writeHead(200).end('ok'));
  });
  afterAll(() => server.close());
  const post = (url: string, opts: Partial<Parameters<typeof postWebhook>[0]> = {}) =>
    postWebhook({ url, body: '{}', id: 'arun_1:0', secret: SECRET, policy: NO_EXCEPTIONS, timeoutSeconds: 2, ...opts });

  it.each([
    ['loopback', () => server.url],
    ['loopback by name', () => `http://localhost:${server.port}/`],
    ['IPv6 loopback', () => `http://[::1]:${server.port}/`],
    ['IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${server.port}/`],
    ['a decimal spelling of loopback', () => `http://2130706433:${server.port}/`],
    ['private 10/8', () => 'http://10.1.2.3/'],
    ['private 192.168/16', () => 'https://192.168.0.10/'],
    ['private 172.16/12', () => 'http://172.20.0.1/'],
    ['CGNAT', () => 'http://100.64.0.1/'],
    ['link-local', () => 'http://169.254.10.10/'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['unique-local IPv6', () => 'http://[fd12:3456::1]/'],
    ['link-local IPv6', () => 'http://[fe80::1]/'],
    ['the unspecified address', () => `http://0.0.0.0:${server.port}/`],
  ])('refuses %s before connecting', async (_what, url) => {
    const before = server.received.length;
    const outcome = await post(url());
    expect(outcome).toMatchObject({ kind: 'refused', reason: 'internal' });
    expect(server.received.length).toBe(before);
  });

  it('refuses a public-looking name that resolves to an internal address (any of its addresses)', async () => {
    expect(await post('https://hooks.example.test/', { resolve: resolvesTo('10.0.0.5') })).toMatchObject({ kind: 'refused', reason: 'internal' });
    expect(await post('https://hooks.example.test/', { resolve: resolvesTo('93.184.216.34', '169.254.169.254') })).toMatchObject({
      kind: 'refused',
      reason: 'internal',
    });
  });

  it('refuses other schemes and credentials in the URL', async () => {
    expect(await post('ftp://example.com/x')).toMatchObject({ kind: 'refused', reason: 'scheme' });
    expect(await post('file:///etc/passwd')).toMatchObject({ kind: 'refused', reason: 'scheme' });
    expect(await post('http://user:pw@example.com/')).toMatchObject({ kind: 'refused', reason: 'credentials' });
    expect(await post('not a url')).toMatchObject({ kind: 'refused', reason: 'url' });
  });

  it('reaches an allow-listed address', async () => {
    expect(await post(server.url, { policy: LOCAL })).toMatchObject({ kind: 'answered', status: 200, body: 'ok' });
  });
});

describe('redirects, time and size', () => {
  it('refuses a public name that redirects to the metadata address, and connects nowhere near it', async () => {
    const server = await recorder((_r, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end());
    try {
      const outcome = await postWebhook({
        url: `http://hooks.example.test:${server.port}/hook`,
        body: '{}',
        id: 'arun_1:0',
        secret: SECRET,
        policy: LOCAL,
        resolve: resolvesTo('127.0.0.1'),
        timeoutSeconds: 2,
      });
      expect(outcome).toEqual({ kind: 'refused', reason: 'internal', url: 'http://169.254.169.254/latest/meta-data/' });
      expect(server.received).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('follows at most three redirects, repeating the signed POST on 307', async () => {
    const server = await recorder((r, res) => res.writeHead(307, { location: `/hop${r.url.length}` }).end());
    try {
      const outcome = await postWebhook({ url: server.url, body: '{"a":1}', id: 'arun_1:0', secret: SECRET, policy: LOCAL });
      expect(outcome).toMatchObject({ kind: 'refused', reason: 'redirects' });
      expect(server.received).toHaveLength(WEBHOOK_MAX_REDIRECTS + 1);
      for (const r of server.received) {
        expect(r).toMatchObject({ method: 'POST', body: '{"a":1}' });
        expect(await referenceVerify(SECRET, r.headers, r.body)).toBe(true);
      }
    } finally {
      await server.close();
    }
  });

  it('gives up at the timeout', async () => {
    const server = await recorder(() => undefined);
    try {
      const started = Date.now();
      const outcome = await postWebhook({ url: server.url, body: '{}', id: 'arun_1:0', secret: SECRET, policy: LOCAL, timeoutSeconds: 1 });
      expect(outcome).toMatchObject({ kind: 'failed', reason: 'timeout' });
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await server.close();
    }
  });

  it('reads no more of an answer than its cap', async () => {
    const server = await recorder((_r, res) => {
      res.writeHead(200);
      res.end('x'.repeat(1024 * 1024));
    });
    try {
      const outcome = await postWebhook({ url: server.url, body: '{}', id: 'arun_1:0', secret: SECRET, policy: LOCAL });
      expect(outcome.kind === 'answered' && outcome.body.length).toBe(WEBHOOK_RESPONSE_CAP_BYTES);
    } finally {
      await server.close();
    }
  });

  it('answers a connection failure as such', async () => {
    const server = await recorder(() => undefined);
    const url = server.url;
    await server.close();
    expect(await postWebhook({ url, body: '{}', id: 'arun_1:0', secret: SECRET, policy: LOCAL })).toMatchObject({ kind: 'failed', reason: 'connection' });
  });
});
