// Request bodies at their edges: a body nested too deep is a 400 before
// authentication (never a stack overflow's 500), huge arrays are validation
// errors, and an endpoint that takes no body accepts the `{}` common clients
// send while still refusing any field.
import request from 'supertest';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { type User } from '../db/entities';
import { signIn, testApp } from '../test/helpers/api';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../lib/webhookSignature';
import { useSuiteDatabase } from '../test/helpers/suite';
import { routeSpecsOf } from './app';
import { MAX_BODY_DEPTH } from './middleware/inputGuard';

const suite = useSuiteDatabase('request-bodies');
const WEBHOOK_SECRET = 'webhook-secret-0123456789';
let a: TenantFixture;
let owner: User;
let platformAdmin: User;
const app = () => testApp(suite.ds, { emailWebhookSecrets: { smartlead: WEBHOOK_SECRET } });

beforeAll(async () => {
  a = await createTenant(suite.ds, { name: 'Alpha', customers: 1 });
  owner = await createUser(suite.ds);
  platformAdmin = await createUser(suite.ds, { platformAdmin: true });
  await addMember(suite.ds, a, owner, 'owner');
});

const count = async (table: string) =>
  Number(((await withTenant(suite.ds, a.tenant.id, (m) => m.query(`SELECT count(*) AS n FROM ${table}`))) as { n: string }[])[0]!.n);

/** `depth` arrays inside each other, as JSON text. */
const nestedArrays = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** `depth` objects inside each other (`{"a":{"a":…}}`), as JSON text. */
const nestedObjects = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);

describe('a body nested too deep', () => {
  it('20,000 nested [ (40 KB) is a 400 body_too_deep before authentication, on every kind of route', async () => {
    const api = request(app().callback());
    const deep = nestedArrays(20_000);
    expect(deep.length).toBe(40_000);
    const before = await count('customers');
    const res = [
      await api.post('/api/customers').set('content-type', 'application/json').send(deep),
      await api.post('/api/auth/login').set('content-type', 'application/json').send(deep),
      await api.post('/api/tenants/register').set('content-type', 'application/json').send(deep),
      await api.post('/api/auth/logout').set('content-type', 'application/json').send(deep),
      await api.patch(`/api/customers/${a.customers[0]!.id}`).set('content-type', 'application/json').send(nestedObjects(15_000)),
    ];
    expect(res.map((r) => [r.status, r.body.error?.code])).toEqual(Array(res.length).fill([400, 'body_too_deep']));
    expect(res[0]!.body.error).toEqual({ code: 'body_too_deep', message: `the body nests deeper than ${MAX_BODY_DEPTH} levels`, details: { maxDepth: 64 } });
    expect(await count('customers')).toBe(before);
  });

  it('the limit is 64 levels: 64 pass to validation, 65 are refused', async () => {
    const o = await signIn(app(), owner.email);
    const at = (depth: number, nest: (d: number) => string) =>
      o
        .post('/api/customers')
        .set('content-type', 'application/json')
        .send(`{"name":"Deep","x":${nest(depth - 1)}}`);
    for (const nest of [nestedArrays, nestedObjects]) {
      const ok = await at(MAX_BODY_DEPTH, nest);
      expect([ok.status, ok.body.error?.code]).toEqual([400, 'validation_failed']);
      const deep = await at(MAX_BODY_DEPTH + 1, nest);
      expect([deep.status, deep.body.error?.code]).toEqual([400, 'body_too_deep']);
    }
  });

  it('with an Idempotency-Key: 400, and no key is claimed', async () => {
    const o = await signIn(app(), owner.email);
    const before = await count('idempotency_keys');
    const res = await o
      .post('/api/customers')
      .set('Idempotency-Key', 'deep-1')
      .set('content-type', 'application/json')
      .send(`{"name":${nestedArrays(20_000)}}`);
    expect([res.status, res.body.error?.code]).toEqual([400, 'body_too_deep']);
    expect(await count('idempotency_keys')).toBe(before);
  });

  it('in a correctly signed e-mail webhook: 400 body_too_deep, nothing stored', async () => {
    // Signed as the provider signs its raw bytes (JSON.stringify itself cannot write this body).
    const raw = `{"id":"evt-deep","type":"reply","messageId":"<x>","extra":${nestedArrays(20_000)}}`;
    const ts = Math.floor(Date.now() / 1000);
    const before = Number((await suite.ds.query('SELECT count(*) AS n FROM webhook_events'))[0].n);
    const res = await request(app().callback())
      .post('/api/webhooks/email/smartlead')
      .set('content-type', 'application/json')
      .set(TIMESTAMP_HEADER, String(ts))
      .set(SIGNATURE_HEADER, signWebhook(WEBHOOK_SECRET, ts, raw))
      .send(raw);
    expect([res.status, res.body.error?.code]).toEqual([400, 'body_too_deep']);
    expect(Number((await suite.ds.query('SELECT count(*) AS n FROM webhook_events'))[0].n)).toBe(before);
  });

  it('a NUL is still reported at its path, in document order', async () => {
    const o = await signIn(app(), owner.email);
    const campaign = `/api/campaigns/${newId('cmp')}/leads`;
    const cases = [
      [await o.post('/api/customers').send({ name: 'ok', tags: [{ a: 'x' }, { b: ['y', 'z\u0000'] }] }), 'tags.1.b.1'],
      [await o.post('/api/customers').send({ name: 'ok', nested: { ['k\u0000']: 1 } }), 'nested.(key)'],
      [
        await o
          .post(campaign)
          .set('X-Customer-Id', a.customers[0]!.id)
          .send({ leads: [{ email: 'a\u0000' }, { email: 'b\u0000' }] }),
        'leads.0.email',
      ],
      [await o.post('/api/customers').set('content-type', 'application/json').send('"\\u0000"'), '(root)'],
    ] as const;
    expect(cases.map(([r]) => [r.status, r.body.error?.details?.[0]?.path])).toEqual(cases.map(([, path]) => [400, path]));
  });
});

describe('huge arrays and objects', () => {
  it('a 98 KB array or a 6,000-key object is a validation error, never a 500', async () => {
    const o = await signIn(app(), owner.email);
    const before = await count('customers');
    const big = [
      await o
        .post('/api/customers')
        .set('content-type', 'application/json')
        .send(`[${'0,'.repeat(49_000)}0]`),
      await o
        .post('/api/customers')
        .set('content-type', 'application/json')
        .send(JSON.stringify(Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`k${i}`, i])))),
      await o.post('/api/customers').send({ name: Array.from({ length: 20_000 }, () => 'x') }),
      await o
        .post('/api/auth/logout')
        .set('content-type', 'application/json')
        .send(`[${'[],'.repeat(30_000)}[]]`),
    ];
    expect(big.map((r) => r.status)).toEqual([400, 400, 400, 400]);
    expect(await count('customers')).toBe(before);
  });
});

describe('an endpoint that takes no body', () => {
  it('accepts {}: signing out with {} signs out', async () => {
    const o = await signIn(app(), owner.email);
    expect((await o.post('/api/auth/logout').send({})).status).toBe(204);
    expect((await o.get('/api/auth/me')).status).toBe(401);
  });

  it('refuses any field, [] and null, and changes nothing', async () => {
    const o = await signIn(app(), owner.email);
    for (const body of ['{"x":1}', '[]', 'null', '0', '"text"']) {
      const res = await o.post('/api/auth/logout').set('content-type', 'application/json').send(body);
      expect([body, res.status, res.body.error?.code, res.body.error?.message]).toEqual([body, 400, 'validation_failed', 'this endpoint takes no body']);
    }
    expect((await o.get('/api/auth/me')).status).toBe(200);
  });

  it('revoking a token with {} revokes it; a retry with the same Idempotency-Key and no body replays', async () => {
    const o = await signIn(app(), owner.email);
    const issued = await o.post('/api/tokens').send({ name: 'to revoke' });
    expect(issued.status).toBe(201);
    const first = await o.delete(`/api/tokens/${issued.body.id}`).set('Idempotency-Key', 'revoke-1').send({});
    expect(first.status).toBe(204);
    const retried = await o.delete(`/api/tokens/${issued.body.id}`).set('Idempotency-Key', 'revoke-1');
    expect([retried.status, retried.headers['idempotent-replayed']]).toEqual([204, 'true']);
    const bearer = await request(app().callback()).get('/api/customers').set('Authorization', `Bearer ${issued.body.token}`);
    expect(bearer.status).toBe(401);
  });

  it('on every route that declares none: {} reaches the route, a field is refused', async () => {
    const instance = app();
    const o = await signIn(instance, owner.email);
    const admin = await signIn(instance, platformAdmin.email);
    const raw = /^\/api\/(webhooks|unsubscribe)\//;
    const declared = routeSpecsOf(instance).filter((r) => !r.body && r.method !== 'get' && !raw.test(r.path) && r.path !== '/api/auth/logout');
    expect(declared.length).toBeGreaterThan(15);
    const wrong: string[] = [];
    for (const r of declared) {
      const path = r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
        const p = r.params?.[name]?.prefix;
        return p === 'uuid' ? '00000000-0000-7000-8000-000000000000' : p === 'name' ? 'no-such-name' : p ? newId(p) : 'x';
      });
      const agent = r.auth === 'platform' ? admin : o;
      const call = (body: object) =>
        (agent as unknown as Record<string, (p: string) => request.Test>)[r.method]!(path).set('X-Customer-Id', a.customers[0]!.id).send(body);
      const withField = await call({ unexpected: 1 });
      if (withField.status !== 400 || withField.body.error?.message !== 'this endpoint takes no body')
        wrong.push(`${r.method} ${r.path} {unexpected}: ${withField.status} ${JSON.stringify(withField.body)}`);
      const empty = await call({});
      if (empty.body.error?.message === 'this endpoint takes no body' || empty.status === 500)
        wrong.push(`${r.method} ${r.path} {}: ${empty.status} ${JSON.stringify(empty.body)}`);
    }
    expect(wrong).toEqual([]);
  });
});
