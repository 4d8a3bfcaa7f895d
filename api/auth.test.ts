// Sign-in, sessions, tenant switching, API tokens and spoofing, as a client
// sees them, against the real database as the application role.
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { AuditEntry, Customer } from '../db/entities';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { type User } from '../db/entities';

let db: TestDatabase;
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let both: User; // owner of A, viewer in B
let onlyB: User;

beforeAll(async () => {
  db = await createTestDatabase('auth');
  ds = await openDataSource(db.appUrl, 'tenantflow-auth-test');
  a = await createTenant(ds, { name: 'Alpha Agency', customers: 1 });
  b = await createTenant(ds, { name: 'Bravo Builders', customers: 1 });
  both = await createUser(ds);
  onlyB = await createUser(ds);
  await addMember(ds, a, both, 'owner');
  await addMember(ds, b, both, 'viewer');
  await addMember(ds, b, onlyB, 'owner');
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

async function auditActions(tenantId: string, action: string): Promise<AuditEntry[]> {
  return withTenant(ds, tenantId, (m) => m.getRepository(AuditEntry).find({ where: { action } }));
}

describe('login', () => {
  it('returns the user and their tenants, and sets an HttpOnly SameSite=Lax session cookie', async () => {
    const res = await request(testApp(ds).callback()).post('/api/auth/login').send({ email: both.email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: both.id, email: both.email });
    expect(res.body.tenants.map((t: { id: string }) => t.id).sort()).toEqual([a.tenant.id, b.tenant.id].sort());
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/tf_session=/);
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=lax/i);
  });

  it('answers a wrong password and an unknown e-mail with the same 401, in the same time class', async () => {
    const api = testApp(ds);
    const timed = async (email: string) => {
      const t0 = process.hrtime.bigint();
      const res = await request(api.callback()).post('/api/auth/login').send({ email, password: 'not the password' });
      return { res, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    };
    const wrong = await timed(onlyB.email);
    const unknown = await timed('nobody@example.test');
    expect(wrong.res.status).toBe(401);
    expect(unknown.res.status).toBe(401);
    expect(unknown.res.body).toEqual(wrong.res.body);
    // Both run a full argon2id verification: neither answers in a fraction of the other's time.
    const ratio = Math.max(wrong.ms, unknown.ms) / Math.min(wrong.ms, unknown.ms);
    expect(ratio).toBeLessThan(5);
  });

  it('locks the account after repeated failures, even for the right password, and says so without revealing the account', async () => {
    const victim = await createUser(ds);
    await addMember(ds, a, victim, 'viewer');
    const api = testApp(ds);
    for (let i = 0; i < 5; i++) {
      const res = await request(api.callback())
        .post('/api/auth/login')
        .send({ email: victim.email, password: `wrong-${i}` });
      expect(res.status).toBe(401);
    }
    const locked = await request(api.callback()).post('/api/auth/login').send({ email: victim.email, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('too_many_attempts');
    // A fresh API process (no in-memory counters) still refuses: the lock is in the database.
    const restarted = await request(testApp(ds).callback()).post('/api/auth/login').send({ email: victim.email, password: PASSWORD });
    expect(restarted.status).toBe(429);
    // An unknown e-mail gets the same answer after as many failures.
    for (let i = 0; i < 5; i++)
      await request(api.callback())
        .post('/api/auth/login')
        .send({ email: 'ghost@example.test', password: `wrong-${i}` });
    const ghost = await request(api.callback()).post('/api/auth/login').send({ email: 'ghost@example.test', password: 'x' });
    expect(ghost.status).toBe(429);
    expect((await auditActions(a.tenant.id, 'login')).filter((e) => e.actorUserId === victim.id && e.outcome === 'failure').length).toBe(5);
  });

  it('rate-limits per IP', async () => {
    // An address of its own: the cap is in the database, shared with the failures of the tests above.
    const api = testApp(ds, { limits: { loginPerIp: 3 }, consoleSecret: 'auth-test-console-secret' });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (
          await request(api.callback())
            .post('/api/auth/login')
            .set('X-Forwarded-For', '203.0.113.96')
            .set('X-Tenantflow-Console', 'auth-test-console-secret')
            .send({ email: `ip${i}@example.test`, password: 'x' })
        ).status,
      );
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });
});

describe('sessions', () => {
  it('me shows the current tenant and its permissions; logout revokes the session', async () => {
    const agent = await signIn(testApp(ds), onlyB.email);
    const me = await agent.get('/api/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.tenant).toMatchObject({ id: b.tenant.id });
    expect(me.body.role).toMatchObject({ key: 'owner' });
    expect(me.body.permissions).toContain('roles.manage');
    expect(me.body.spaces).toEqual(['client', 'provider', 'dev', 'accounting']);
    expect((await agent.post('/api/auth/logout')).status).toBe(204);
    expect((await agent.get('/api/auth/me')).status).toBe(401);
  });

  it("me names the spaces the caller's role opens (an accountant: accounting, and dev for the audit log)", async () => {
    const accountant = await createUser(ds);
    await addMember(ds, b, accountant, 'accountant');
    const me = await (await signIn(testApp(ds), accountant.email)).get('/api/auth/me');
    expect(me.body.role).toMatchObject({ key: 'accountant' });
    expect(me.body.spaces).toEqual(['dev', 'accounting']);
  });

  it('a revoked session stops working', async () => {
    const agent = await signIn(testApp(ds), onlyB.email);
    expect((await agent.get('/api/customers')).status).toBe(200);
    await ds.query('UPDATE sessions SET revoked_at = now() WHERE user_id = $1', [onlyB.id]);
    expect((await agent.get('/api/customers')).status).toBe(401);
  });

  it('switching tenant checks membership and rotates the session', async () => {
    const api = testApp(ds);
    const login = await request(api.callback()).post('/api/auth/login').send({ email: both.email, password: PASSWORD });
    const oldCookie = String(login.headers['set-cookie']).split(';')[0]!;
    const switched = await request(api.callback()).post('/api/auth/switch-tenant').set('Cookie', oldCookie).send({ tenantId: b.tenant.id });
    expect(switched.status).toBe(200);
    expect(switched.body.tenant.id).toBe(b.tenant.id);
    expect(switched.body.permissions).not.toContain('customers.write'); // viewer in B
    expect(switched.body.spaces).toEqual(['client']); // a viewer sees the client space only
    const newCookie = String(switched.headers['set-cookie']).split(';')[0]!;
    expect(newCookie).not.toBe(oldCookie);
    expect((await request(api.callback()).get('/api/auth/me').set('Cookie', oldCookie)).status).toBe(401);
    const inB = await request(api.callback()).get('/api/customers').set('Cookie', newCookie);
    expect(inB.body.data.map((c: { id: string }) => c.id)).toEqual([b.customers[0]!.id]);

    // A tenant the user does not belong to: 404, and counted in the audit log of the tenant they are in.
    const stranger = await createTenant(ds, { name: 'Charlie' });
    const refused = await request(api.callback()).post('/api/auth/switch-tenant').set('Cookie', newCookie).send({ tenantId: stranger.tenant.id });
    expect(refused.status).toBe(404);
    expect((await auditActions(b.tenant.id, 'cross_tenant_attempt')).some((e) => e.actorUserId === both.id)).toBe(true);
  });
});

describe('spoofing', () => {
  it('ignores X-Tenant-Id / X-Tenant-Slug headers and tenantId in a body, and counts the attempt', async () => {
    const agent = await signIn(testApp(ds), onlyB.email);
    const spoofed = await agent.get('/api/customers').set('X-Tenant-Id', a.tenant.id).set('X-Tenant-Slug', a.tenant.slug);
    expect(spoofed.status).toBe(200);
    expect(spoofed.body.data.map((c: { id: string }) => c.id)).toEqual([b.customers[0]!.id]);
    const withBodyTenant = await agent.post('/api/customers').send({ name: 'Sneaky', tenantId: a.tenant.id });
    expect(withBodyTenant.status).toBe(400);
    expect(await withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).countBy({ name: 'Sneaky' }))).toBe(0);
    expect((await auditActions(b.tenant.id, 'cross_tenant_attempt')).some((e) => (e.details as { via?: string }).via === 'tenant_header')).toBe(true);
  });

  it('answers every response with an X-Request-Id', async () => {
    const res = await request(testApp(ds).callback()).get('/api/auth/me');
    expect(res.status).toBe(401);
    expect(res.headers['x-request-id']).toBeTruthy();
  });
});

describe('API tokens', () => {
  it('are shown once, listed without the secret, scoped to one tenant, and stop working when revoked', async () => {
    const owner = await signIn(testApp(ds), onlyB.email);
    const issued = await owner.post('/api/tokens').send({ name: 'CI' });
    expect(issued.status).toBe(201);
    const secret = issued.body.token as string;
    expect(secret).toMatch(/^tf_[0-9a-f]{32}_/);
    const list = await owner.get('/api/tokens');
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(issued.body.id);

    const api = request(testApp(ds).callback());
    const asToken = await api.get('/api/customers').set('Authorization', `Bearer ${secret}`).set('X-Tenant-Id', a.tenant.id);
    expect(asToken.status).toBe(200);
    expect(asToken.body.data.map((c: { id: string }) => c.id)).toEqual([b.customers[0]!.id]);
    // The tenant in a token is trusted only when the hash matches inside that tenant.
    const forged = secret.replace(/^tf_[0-9a-f]{32}_/, `tf_${a.tenant.id.replace(/-/g, '')}_`);
    expect((await api.get('/api/customers').set('Authorization', `Bearer ${forged}`)).status).toBe(401);

    expect((await owner.delete(`/api/tokens/${issued.body.id}`)).status).toBe(204);
    expect((await request(testApp(ds).callback()).get('/api/customers').set('Authorization', `Bearer ${secret}`)).status).toBe(401);
    const actions = (await auditActions(b.tenant.id, 'token_issued')).length + (await auditActions(b.tenant.id, 'token_revoked')).length;
    expect(actions).toBeGreaterThanOrEqual(2);
  });

  it('a platform admin issues a token for any tenant; others cannot', async () => {
    const admin = await createUser(ds, { platformAdmin: true });
    const api = testApp(ds);
    const adminAgent = await signIn(api, admin.email);
    const res = await adminAgent.post(`/api/platform/tenants/${a.tenant.id}/tokens`).send({ name: 'Ops' });
    expect(res.status).toBe(201);
    const me = await request(api.callback()).get('/api/auth/me').set('Authorization', `Bearer ${res.body.token}`);
    expect(me.body.tenant.id).toBe(a.tenant.id);
    const owner = await signIn(api, onlyB.email);
    expect((await owner.post(`/api/platform/tenants/${a.tenant.id}/tokens`).send({ name: 'nope' })).status).toBe(403);
    expect((await adminAgent.post('/api/platform/tenants/00000000-0000-7000-8000-000000000000/tokens').send({ name: 'x' })).status).toBe(404);
  });
});
