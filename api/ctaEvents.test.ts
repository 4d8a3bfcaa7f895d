// Website CTA events (docs/analytics.md, "Website events"): publishable keys
// managed by owners and admins, and POST /api/analytics/cta — the key's
// origins only, all or nothing, deduplicated by the client's event id, 600
// events a minute per key across API processes, and a key that opens no
// other route.
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { hasLoneSurrogateWithin, jsonbTextBytes } from '../lib/jsonbText';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { startApiProcess } from '../test/helpers/apiProcess';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('cta-events');
const SITE = 'https://www.shop.example';
let t: TenantFixture;
let owner: Agent;
let app: ReturnType<typeof testApp>;

beforeAll(async () => {
  app = testApp(suite.ds);
  t = await createTenant(suite.ds, { customers: 2 });
  const user = await createUser(suite.ds);
  await addMember(suite.ds, t, user, 'owner');
  owner = await signIn(app, user.email);
});

async function newKey(customerId = t.customers[0]!.id, origins = [SITE]): Promise<{ id: string; key: string }> {
  const res = await owner.post('/api/publishable-keys').send({ name: 'Website', customerId, allowedOrigins: origins });
  expect(res.status).toBe(201);
  return res.body as { id: string; key: string };
}

const events = (n: number, prefix: string, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, type: 'cta.signup_click', surface: 'pricing/hero', ...extra }));

function send(key: string, body: unknown, opts: { origin?: string | null; via?: 'query' | 'header' } = {}) {
  const via = opts.via ?? 'query';
  let req = request(app.callback()).post(via === 'query' ? `/api/analytics/cta?key=${encodeURIComponent(key)}` : '/api/analytics/cta');
  if (via === 'header') req = req.set('X-Publishable-Key', key);
  if (opts.origin !== null) req = req.set('Origin', opts.origin ?? SITE);
  return req.send(body as object);
}

async function stored(customerId?: string, ds: DataSource = suite.ds): Promise<number> {
  const rows = (await withTenant(ds, t.tenant.id, (m) =>
    m.query("SELECT count(*)::int AS n FROM analytics_events WHERE type LIKE 'cta.%' AND ($1::text IS NULL OR customer_id = $1)", [customerId ?? null]),
  )) as { n: number }[];
  return rows[0]!.n;
}

describe('publishable keys', () => {
  it('are created for a customer with exact origins, shown once, listed by a hint, and revoked', async () => {
    const created = await newKey(t.customers[1]!.id, [SITE, 'http://localhost:5173']);
    expect(created.key).toMatch(/^pk_[0-9a-f]{32}_/);
    const list = await owner.get('/api/publishable-keys');
    expect(list.status).toBe(200);
    const listed = (list.body as { data: { id: string; hint: string; allowedOrigins: string[] }[] }).data.find((k) => k.id === created.id)!;
    expect(listed).toMatchObject({ allowedOrigins: [SITE, 'http://localhost:5173'], hint: `pk_…${created.key.slice(-6)}` });
    expect(JSON.stringify(list.body)).not.toContain(created.key);
    expect((await owner.delete(`/api/publishable-keys/${created.id}`)).status).toBe(204);
    expect((await owner.get('/api/publishable-keys')).body.data.find((k: { id: string }) => k.id === created.id).revokedAt).not.toBeNull();
  });

  it('refuse an origin that is not exactly scheme://host[:port], no origin, and a customer of another tenant', async () => {
    const other = await createTenant(suite.ds, { customers: 1 });
    const bad = async (body: Record<string, unknown>, path: string) => {
      const res = await owner.post('/api/publishable-keys').send({ name: 'W', customerId: t.customers[0]!.id, allowedOrigins: [SITE], ...body });
      expect(res.status).toBe(400);
      expect((res.body as { error: { details: { path: string }[] } }).error.details.map((d) => d.path)).toContain(path);
    };
    await bad({ allowedOrigins: [] }, 'allowedOrigins');
    await bad({ allowedOrigins: ['https://www.shop.example/'] }, 'allowedOrigins.0');
    await bad({ allowedOrigins: [SITE, 'https://shop.example/pricing'] }, 'allowedOrigins.1');
    await bad({ allowedOrigins: ['HTTPS://SHOP.EXAMPLE'] }, 'allowedOrigins.0');
    await bad({ allowedOrigins: ['ftp://shop.example'] }, 'allowedOrigins.0');
    await bad({ allowedOrigins: ['*'] }, 'allowedOrigins.0');
    await bad({ customerId: other.customers[0]!.id }, 'customerId');
  });

  it('are managed with tokens.manage only; a member restricted to one customer sees and revokes only its keys', async () => {
    const [viewer] = await Promise.all([
      (async () => {
        const u = await createUser(suite.ds);
        await addMember(suite.ds, t, u, 'viewer');
        return signIn(app, u.email);
      })(),
    ]);
    expect((await viewer!.get('/api/publishable-keys')).status).toBe(403);
    expect((await viewer!.post('/api/publishable-keys').send({ name: 'W', customerId: t.customers[0]!.id, allowedOrigins: [SITE] })).status).toBe(403);

    const mine = await newKey(t.customers[0]!.id);
    const theirs = await newKey(t.customers[1]!.id);
    const u = await createUser(suite.ds);
    await addMember(suite.ds, t, u, 'admin', t.customers[0]!.id);
    const restricted = await signIn(app, u.email);
    const ids = (await restricted.get('/api/publishable-keys')).body.data.map((k: { id: string }) => k.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    expect((await restricted.delete(`/api/publishable-keys/${theirs.id}`)).status).toBe(404);
    const refused = await restricted.post('/api/publishable-keys').send({ name: 'W', customerId: t.customers[1]!.id, allowedOrigins: [SITE] });
    expect(refused.status).toBe(400);
    expect((await restricted.delete(`/api/publishable-keys/${mine.id}`)).status).toBe(204);
  });
});

describe('POST /api/analytics/cta', () => {
  it('stores a batch of 100 with 10 duplicates as 90 events of the key’s customer, and a resent batch as none', async () => {
    const customerId = t.customers[1]!.id;
    const { key } = await newKey(customerId);
    const before = await stored(customerId);
    const batch = [...events(90, 'dup-test'), ...events(10, 'dup-test')];
    const res = await send(key, { events: batch });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accepted: 90, duplicates: 10 });
    expect(res.headers['access-control-allow-origin']).toBe(SITE);
    expect(await stored(customerId)).toBe(before + 90);

    const again = await send(key, { events: events(100, 'dup-test') }, { via: 'header' });
    expect(again.body).toEqual({ accepted: 10, duplicates: 90 });
    expect(await stored(customerId)).toBe(before + 100);
  });

  it('keeps the client’s time no later than receipt, and the surface and properties', async () => {
    const { key } = await newKey();
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const past = '2024-03-01T10:00:00.000Z';
    const res = await send(key, {
      events: [
        { id: 'time-future', type: 'cta.book_demo', surface: 'home', occurredAt: future, properties: { plan: 'pro', n: 1 } },
        { id: 'time-past', type: 'cta.book_demo', surface: 'home', occurredAt: past },
      ],
    });
    expect(res.status).toBe(200);
    const rows = (await withTenant(suite.ds, t.tenant.id, (m) =>
      m.query(
        "SELECT dedupe_key, occurred_at, received_at, surface, properties FROM analytics_events WHERE dedupe_key LIKE 'cta:%:time-%' ORDER BY dedupe_key",
      ),
    )) as { dedupe_key: string; occurred_at: Date; received_at: Date; surface: string; properties: unknown }[];
    expect(rows[0]!.occurred_at.getTime()).toBeLessThanOrEqual(Date.now());
    expect(rows[0]!.properties).toEqual({ plan: 'pro', n: 1 });
    expect(rows[1]!.occurred_at.toISOString()).toBe(past);
  });

  it('accepts exactly 600 of 700 events within a minute sent through two API processes; the rest is 429 with Retry-After', async () => {
    // Two API processes of their own (test/servers/api.ts), each with its own pool: only the database is shared.
    const servers = await Promise.all([startApiProcess(suite.db.appUrl), startApiProcess(suite.db.appUrl)]);
    try {
      const customerId = t.customers[0]!.id;
      const { key } = await newKey(customerId);
      const before = await stored(customerId);
      const post = (i: number, body: unknown) =>
        request(servers[i % 2]!.url)
          .post(`/api/analytics/cta?key=${encodeURIComponent(key)}`)
          .set('Origin', SITE)
          .send(body as object);
      const answers = await Promise.all(Array.from({ length: 7 }, (_, i) => post(i, { events: events(100, `limit-${i}`) })));
      const ok = answers.filter((r) => r.status === 200);
      const limited = answers.filter((r) => r.status === 429);
      expect(ok.reduce((sum, r) => sum + (r.body as { accepted: number }).accepted, 0)).toBe(600);
      expect(limited).toHaveLength(1);
      expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited[0]!.headers['access-control-allow-origin']).toBe(SITE);
      expect(await stored(customerId)).toBe(before + 600);
      // One more event is refused too, by either process: the key's minute is used up.
      expect((await post(1, { events: events(1, 'limit-late') })).status).toBe(429);
      expect((await post(0, { events: events(1, 'limit-later') })).status).toBe(429);
    } finally {
      for (const s of servers) s.stop();
    }
  });

  it('answers the preflight for the key’s origins only', async () => {
    const { key } = await newKey();
    const preflight = (origin: string) =>
      request(app.callback())
        .options(`/api/analytics/cta?key=${encodeURIComponent(key)}`)
        .set('Origin', origin)
        .set('Access-Control-Request-Method', 'POST')
        .set('Access-Control-Request-Headers', 'content-type');
    const ok = await preflight(SITE);
    expect(ok.status).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe(SITE);
    expect(ok.headers['access-control-allow-methods']).toBe('POST');
    const other = await preflight('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a wrong or missing origin, a revoked or unknown key, an oversized body, a NUL and an invalid event, writing nothing', async () => {
    const customerId = t.customers[0]!.id;
    const { id, key } = await newKey(customerId);
    const before = await stored();
    const expectError = async (res: request.Response, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect((res.body as { error: { code: string } }).error.code).toBe(code);
    };
    await expectError(await send(key, { events: events(3, 'no-origin') }, { origin: null }), 403, 'origin_not_allowed');
    await expectError(await send(key, { events: events(3, 'bad-origin') }, { origin: 'https://shop.example' }), 403, 'origin_not_allowed');
    await expectError(await send(key, { events: events(3, 'no-key') }, { via: 'header' }).unset('X-Publishable-Key'), 401, 'missing_publishable_key');
    await expectError(await send(`${key.slice(0, -4)}AAAA`, { events: events(3, 'forged') }), 401, 'invalid_publishable_key');
    await expectError(await send(key, { events: events(101, 'too-many') }), 400, 'validation_failed');
    const big = 'x'.repeat(4000);
    await expectError(await send(key, { events: events(130, 'oversized', { properties: { big } }) }), 413, 'payload_too_large');

    const nul = await send(key, { events: [...events(5, 'nul'), { id: 'nul-x', type: 'cta.click', surface: 'a\u0000b' }] });
    await expectError(nul, 400, 'validation_failed');
    expect(JSON.stringify(nul.body)).toContain('events.5.surface');

    const invalid = async (event: Record<string, unknown>, path: string) => {
      const res = await send(key, { events: [...events(5, 'invalid'), { id: 'invalid-x', type: 'cta.click', surface: 'home', ...event }] });
      await expectError(res, 400, 'validation_failed');
      expect((res.body as { error: { details: { path: string }[] } }).error.details.map((d) => d.path)).toContain(path);
    };
    await invalid({ type: 'message.sent' }, 'events.5.type');
    await invalid({ type: 'cta.Signup' }, 'events.5.type');
    await invalid({ surface: '' }, 'events.5.surface');
    await invalid({ surface: 's'.repeat(101) }, 'events.5.surface');
    await invalid({ properties: { big: 'x'.repeat(4090) } }, 'events.5.properties');
    await invalid({ properties: [1, 2] }, 'events.5.properties');
    await invalid({ properties: { lone: '\ud800' } }, 'events.5.properties');
    await invalid({ id: 'has space' }, 'events.5.id');
    await invalid({ occurredAt: 'yesterday' }, 'events.5.occurredAt');
    expect(await stored()).toBe(before);

    expect((await owner.delete(`/api/publishable-keys/${id}`)).status).toBe(204);
    await expectError(await send(key, { events: events(3, 'revoked') }), 401, 'invalid_publishable_key');
    expect(await stored()).toBe(before);
  });

  it('accepts properties of exactly 4 KB as the database measures them', async () => {
    const { key } = await newKey();
    // {"p": "…"}: 2 braces, "p" (3), ": " (2), the quoted value.
    const properties = { p: 'y'.repeat(4096 - 2 - 3 - 2 - 2) };
    expect(jsonbTextBytes(properties)).toBe(4096);
    expect((await send(key, { events: [{ id: 'exact-4k', type: 'cta.click', surface: 'home', properties }] })).status).toBe(200);
    const over = { p: 'y'.repeat(4096 - 2 - 3 - 2 - 2 + 1) };
    expect((await send(key, { events: [{ id: 'over-4k', type: 'cta.click', surface: 'home', properties: over }] })).status).toBe(400);
  });

  it('the key opens no other route: as a bearer token or as the header it is no credential (401)', async () => {
    const { key } = await newKey();
    const before = await stored();
    const client = request(app.callback());
    const routes: [string, string][] = [
      ['get', '/api/auth/me'],
      ['get', '/api/customers'],
      ['get', '/api/publishable-keys'],
      ['post', '/api/customers'],
      ['get', '/api/campaigns'],
    ];
    for (const [method, path] of routes) {
      const call = (req: request.Test) => (method === 'post' ? req.send({ name: 'Via key' }) : req);
      const asBearer = await call(
        (client as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set('Authorization', `Bearer ${key}`).set('Origin', SITE),
      );
      expect([path, asBearer.status]).toEqual([path, 401]);
      const asHeader = await call(
        (client as unknown as Record<string, (p: string) => request.Test>)[method]!(path).set('X-Publishable-Key', key).set('Origin', SITE),
      );
      expect([path, asHeader.status, asHeader.body.error.code]).toEqual([path, 401, 'unauthenticated']);
    }
    const customers = (await owner.get('/api/customers')).body.data.map((c: { name: string }) => c.name);
    expect(customers).not.toContain('Via key');
    expect(await stored()).toBe(before);
  });
});

describe('jsonb text size', () => {
  it('matches PostgreSQL’s octet_length(value::text)', async () => {
    const values: unknown[] = [
      {},
      { a: 1, b: [1, 2, { c: null }], d: 'é€😀', e: true },
      { big: 1e21, small: 1.5e-7, neg: -2.5e-10, huge: 1.7976931348623157e308, tiny: 5e-324, f: 0.1, i: -1234567890123456 },
      { s: 'line\nbreak\t"quoted"\\ \u0001 \u001f \u007f \u2028' },
      { nested: { deeper: [[], {}, [{}]] } },
    ];
    for (const v of values) {
      const [row] = (await suite.ds.query('SELECT octet_length($1::jsonb::text) AS n', [JSON.stringify(v)])) as { n: number }[];
      expect([v, jsonbTextBytes(v)]).toEqual([v, row!.n]);
    }
    expect(hasLoneSurrogateWithin({ ok: '😀' })).toBe(false);
    expect(hasLoneSurrogateWithin({ ['\udc00']: 1 })).toBe(true);
  });
});
