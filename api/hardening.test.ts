// Regression tests for attacks an outside review found: each reproduces the
// attack and asserts what a caller sees — the status, that nothing was written,
// and that nothing was revealed (docs/security.md).
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { type PlatformMail } from '../lib/platformMail';
import { NO_EXCEPTIONS, parseOutboundAllowlist } from '../lib/outbound';
import { withTenant } from '../db/tenantContext';
import { newId } from '../db/ids';
import { ALL_PERMISSIONS } from '../lib/permissions';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { ALWAYS_OPEN, postEmailWebhook } from '../test/helpers/outreach';
import { startSmtpServer } from '../test/helpers/smtp';
import { SMTP_UNREACHABLE, smtpProvider } from '../activities/providers/mail';
import { createProvisionTenantActivities } from '../activities/provisionTenant';
import { safeNext } from '../web/src/lib/safeNext';
import Koa from 'koa';
import { errorBoundary } from './middleware/errorBoundary';
import { routeSpecsOf } from './app';
import { authenticate } from './access';
import { Routes } from './routing';
import { type AppState } from './state';
import { type User } from '../db/entities';

let db: TestDatabase;
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: User;
let adminUser: User;
let restrictedUser: User;
let otherTenantUser: User;
let platformAdmin: User;
const mail: PlatformMail[] = [];
const CONSOLE_SECRET = 'console-shared-secret-for-tests';
const CONSOLE = 'http://console.test';
const app = () =>
  testApp(ds, {
    mailer: async (m) => {
      mail.push(m);
    },
    consoleUrl: CONSOLE,
    consoleSecret: CONSOLE_SECRET,
    allowedOrigins: [CONSOLE],
    // These tests invite more often than the invitation limits allow (api/identity.test.ts tests those).
    limits: { invitesPerTenant: 1000, invitesPerInviter: 1000 },
  });

beforeAll(async () => {
  db = await createTestDatabase('hardening');
  ds = await openDataSource(db.appUrl, 'tenantflow-hardening-test');
  a = await createTenant(ds, { name: 'Alpha', customers: 2 });
  b = await createTenant(ds, { name: 'Bravo', customers: 1 });
  owner = await createUser(ds, { name: 'Olive Owner' });
  adminUser = await createUser(ds, { name: 'Adam Admin' });
  restrictedUser = await createUser(ds, { name: 'Rita Restricted' });
  otherTenantUser = await createUser(ds, { name: 'Secret Name Of Bravo User' });
  platformAdmin = await createUser(ds, { platformAdmin: true });
  await addMember(ds, a, owner, 'owner');
  await addMember(ds, a, adminUser, 'admin');
  await addMember(ds, b, otherTenantUser, 'owner');
  // A custom role holding tokens.manage and members.manage, given to a member restricted to customer 0.
  const roleId = await withTenant(ds, a.tenant.id, async (m) => {
    const id = newId('role');
    await m.query('INSERT INTO roles (tenant_id, id, name, key, is_system) VALUES ($1, $2, $3, NULL, false)', [a.tenant.id, id, 'Restricted helper']);
    for (const p of [
      'customers.read',
      'campaigns.read',
      'campaigns.write',
      'tokens.manage',
      'members.read',
      'members.manage',
      'roles.read',
      'conversations.read',
      'analytics.read',
      'automations.read',
    ]) {
      await m.query('INSERT INTO role_permissions (tenant_id, role_id, permission) VALUES ($1, $2, $3)', [a.tenant.id, id, p]);
    }
    return id;
  });
  a.roles.helper = roleId;
  await addMember(ds, a, restrictedUser, 'helper', a.customers[0]!.id);
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

const inA = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(ds, a.tenant.id, fn);
const count = async (sql: string, params: unknown[] = []) => Number(((await inA((m) => m.query(sql, params))) as { n: string }[])[0]!.n);

/** A token whose role holds exactly `permissions`, issued directly (as a fixture). */
async function tokenWith(permissions: string[], customerId: string | null = null): Promise<string> {
  const owned = await signIn(app(), owner.email);
  const role = await owned.post('/api/roles').send({ name: `r-${Math.random().toString(36).slice(2, 8)}`, permissions });
  expect(role.status).toBe(201);
  const issued = await owned.post('/api/tokens').send({ name: 'fixture', roleId: role.body.id });
  expect(issued.status).toBe(201);
  if (customerId) await inA((m) => m.query('UPDATE api_tokens SET customer_id = $2 WHERE id = $1', [issued.body.id, customerId]));
  return issued.body.token as string;
}

describe('1. a token never mints a token above itself', () => {
  it('without roleId the new token gets the issuer’s role, not admin; the audit row names the actor and request', async () => {
    const weak = await tokenWith(['tokens.manage']);
    const api = request(app().callback());
    const minted = await api.post('/api/tokens').set('Authorization', `Bearer ${weak}`).send({ name: 'escalate?' });
    expect(minted.status).toBe(201);
    const me = await api.get('/api/auth/me').set('Authorization', `Bearer ${minted.body.token}`);
    expect(me.body.permissions).toEqual(['tokens.manage']);
    const [row] = (await inA((m) =>
      m.query("SELECT actor_token_id, request_id FROM audit_log WHERE action = 'token_issued' AND target_id = $1", [minted.body.id]),
    )) as {
      actor_token_id: string | null;
      request_id: string | null;
    }[];
    expect(row!.actor_token_id).toMatch(/^tok_/);
    expect(row!.request_id).toBe(minted.headers['x-request-id']);
  });

  it('naming a stronger role is 403 and writes no token', async () => {
    const weak = await tokenWith(['tokens.manage']);
    const before = await count('SELECT count(*) AS n FROM api_tokens');
    const res = await request(app().callback()).post('/api/tokens').set('Authorization', `Bearer ${weak}`).send({ name: 'escalate', roleId: a.roles.admin });
    expect(res.status).toBe(403);
    expect(await count('SELECT count(*) AS n FROM api_tokens')).toBe(before);
  });
});

describe('2. members.manage grants only what the caller holds; nobody changes their own role', () => {
  it('an admin lacking billing.manage cannot invite to, or move someone into, the accountant role', async () => {
    const admin = await signIn(app(), adminUser.email);
    const before = await count('SELECT count(*) AS n FROM invites');
    const invite = await admin.post('/api/members').send({ email: 'new-accountant@example.test', name: 'New', roleId: a.roles.accountant });
    expect(invite.status).toBe(403);
    expect(await count('SELECT count(*) AS n FROM invites')).toBe(before);
    const members = await admin.get('/api/members');
    const rita = members.body.data.find((m: { user: { email: string } }) => m.user.email === restrictedUser.email);
    const moved = await admin.patch(`/api/members/${rita.id}`).send({ roleId: a.roles.accountant });
    expect(moved.status).toBe(403);
  });

  it('nobody changes their own role, even to a weaker one', async () => {
    const admin = await signIn(app(), adminUser.email);
    const me = (await admin.get('/api/members')).body.data.find((m: { user: { email: string } }) => m.user.email === adminUser.email);
    const res = await admin.patch(`/api/members/${me.id}`).send({ roleId: a.roles.viewer });
    expect(res.status).toBe(403);
    expect((await admin.get(`/api/members/${me.id}`)).body.role.id).toBe(a.roles.admin);
  });
});

describe('3. tokens and grants carry the issuer’s customer restriction', () => {
  it('a restricted member’s token sees only that customer', async () => {
    const rita = await signIn(app(), restrictedUser.email);
    const minted = await rita.post('/api/tokens').send({ name: 'mine' });
    expect(minted.status).toBe(201);
    expect(minted.body.customerId).toBe(a.customers[0]!.id);
    const api = request(app().callback());
    const list = await api.get('/api/customers').set('Authorization', `Bearer ${minted.body.token}`);
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([a.customers[0]!.id]);
    const other = await api.get(`/api/customers/${a.customers[1]!.id}`).set('Authorization', `Bearer ${minted.body.token}`);
    expect(other.status).toBe(404);
    const otherInboxes = await api.get('/api/inboxes').set('Authorization', `Bearer ${minted.body.token}`).set('X-Customer-Id', a.customers[1]!.id);
    expect(otherInboxes.status).toBe(400);
  });

  it('a restricted member’s invitation is restricted to the same customer, whatever the body says', async () => {
    const rita = await signIn(app(), restrictedUser.email);
    const lifted = await rita
      .post('/api/members')
      .send({ email: 'rita-friend@example.test', name: 'Friend', roleId: a.roles.viewer, customerId: a.customers[1]!.id });
    expect(lifted.status).toBe(400);
    const omitted = await rita.post('/api/members').send({ email: 'rita-friend@example.test', name: 'Friend', roleId: a.roles.viewer });
    expect(omitted.status).toBe(202);
    expect(omitted.body.invite.customerId).toBe(a.customers[0]!.id);
  });

  it('an unrestricted invitation may name a customer of the tenant, and no other', async () => {
    const o = await signIn(app(), owner.email);
    for (const customerId of [b.customers[0]!.id, 'cust_00000000000000000000000000']) {
      const refused = await o.post('/api/members').send({ email: 'scoped-friend@example.test', name: 'Friend', roleId: a.roles.viewer, customerId });
      expect([customerId, refused.status, refused.body.error?.code]).toEqual([customerId, 400, 'invalid_customer_context']);
    }
    const granted = await o
      .post('/api/members')
      .send({ email: 'scoped-friend@example.test', name: 'Friend', roleId: a.roles.viewer, customerId: a.customers[1]!.id });
    expect(granted.status).toBe(202);
    expect(granted.body.invite.customerId).toBe(a.customers[1]!.id);
  });
});

describe('4. existing accounts are invited, never attached, and nothing reveals that they exist', () => {
  it('inviting another tenant’s user answers exactly like a new address, attaches nobody, and mails the link', async () => {
    const o = await signIn(app(), owner.email);
    mail.length = 0;
    const existing = await o.post('/api/members').send({ email: otherTenantUser.email, name: 'Whoever', roleId: a.roles.viewer });
    const fresh = await o.post('/api/members').send({ email: 'brand-new@example.test', name: 'Whoever', roleId: a.roles.viewer });
    expect(existing.status).toBe(202);
    expect(fresh.status).toBe(202);
    const shape = (body: { invite: Record<string, unknown> }) => ({ ...body.invite, id: 'x', email: 'x', expiresAt: 'x' });
    expect(shape(existing.body)).toEqual(shape(fresh.body));
    expect(JSON.stringify(existing.body)).not.toContain('Secret Name Of Bravo User');
    // Not a member until they accept.
    expect(await count('SELECT count(*) AS n FROM memberships WHERE user_id = $1', [otherTenantUser.id])).toBe(0);
    expect(mail.map((m) => m.to).sort()).toEqual(['brand-new@example.test', otherTenantUser.email].sort());

    // The existing user sees it signed in and accepts; then they are a viewer of Alpha.
    const bravoUser = await signIn(app(), otherTenantUser.email);
    const pending = await bravoUser.get('/api/auth/invites');
    expect(pending.body.data.map((i: { tenant: { name: string } }) => i.tenant.name)).toEqual(['Alpha']);
    expect((await bravoUser.post(`/api/auth/invites/${pending.body.data[0].id}/accept`)).status).toBe(200);
    const [m] = (await inA((mm) => mm.query('SELECT role_id FROM memberships WHERE user_id = $1', [otherTenantUser.id]))) as { role_id: string }[];
    expect(m!.role_id).toBe(a.roles.viewer);

    // The new address chooses its password through the mailed link.
    const link = mail.find((x) => x.to === 'brand-new@example.test')!.text.match(/\/invite\/(inv_\S+)/)![1]!;
    const accepted = await request(app().callback()).post('/api/auth/accept-invite').send({ token: link, password: 'a fresh password 1' });
    expect(accepted.status).toBe(204);
    await signIn(app(), 'brand-new@example.test', 'a fresh password 1');
  });

  it('the link of an existing account needs that account’s own password: it never resets it', async () => {
    const o = await signIn(app(), owner.email);
    const victim = await createUser(ds, { name: 'Victim' });
    mail.length = 0;
    expect((await o.post('/api/members').send({ email: victim.email, name: 'V', roleId: a.roles.viewer })).status).toBe(202);
    const token = mail[0]!.text.match(/\/invite\/(inv_\S+)/)![1]!;
    const takeover = await request(app().callback()).post('/api/auth/accept-invite').send({ token, password: 'attacker chosen pw' });
    expect(takeover.status).toBe(401);
    await signIn(app(), victim.email, PASSWORD); // password unchanged
    expect(await count('SELECT count(*) AS n FROM memberships WHERE user_id = $1', [victim.id])).toBe(0);
  });

  it('the platform admin is never a member: the answer is the same, the invitation cannot be accepted', async () => {
    const o = await signIn(app(), owner.email);
    mail.length = 0;
    const res = await o.post('/api/members').send({ email: platformAdmin.email, name: 'Ops', roleId: a.roles.viewer });
    expect(res.status).toBe(202);
    const token = mail[0]!.text.match(/\/invite\/(inv_\S+)/)![1]!;
    expect((await request(app().callback()).post('/api/auth/accept-invite').send({ token, password: PASSWORD })).status).toBe(404);
    const adminAgent = await signIn(app(), platformAdmin.email);
    expect((await adminAgent.get('/api/auth/invites')).body.data).toEqual([]);
    expect(await count('SELECT count(*) AS n FROM memberships WHERE user_id = $1', [platformAdmin.id])).toBe(0);
  });

  it('registration with someone’s e-mail invites them as owner instead of attaching them', async () => {
    const victim = await createUser(ds, { name: 'Registered By Someone Else' });
    const t = await createTenant(ds, { name: 'Attacker Co' });
    await ds.query("UPDATE tenants SET owner_email = $2, owner_name = 'x', status = 'provisioning' WHERE id = $1", [t.tenant.id, victim.email]);
    const acts = createProvisionTenantActivities({ dataSource: ds, consoleUrl: CONSOLE });
    await acts.createOwner({
      tenantId: t.tenant.id,
      progress: { status: 'running', step: 'create_owner', stepsDone: 3, stepsTotal: 6, startedAt: new Date().toISOString() },
    });
    const members = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT 1 FROM memberships WHERE user_id = $1', [victim.id]))) as unknown[];
    expect(members).toEqual([]);
    const invites = (await withTenant(ds, t.tenant.id, (m) => m.query('SELECT role_id FROM invites WHERE user_id = $1', [victim.id]))) as { role_id: string }[];
    expect(invites.map((i) => i.role_id)).toEqual([t.roles.owner]);
  });

  it('sign-in lands in the tenant the user last switched to', async () => {
    const both = await createUser(ds);
    await addMember(ds, a, both, 'viewer');
    await addMember(ds, b, both, 'viewer');
    const first = await signIn(app(), both.email);
    expect((await first.post('/api/auth/switch-tenant').send({ tenantId: b.tenant.id })).status).toBe(200);
    const again = await request(app().callback()).post('/api/auth/login').send({ email: both.email, password: PASSWORD });
    expect(again.body.currentTenantId).toBe(b.tenant.id); // not Alpha, the alphabetically first
  });
});

describe('5. workflow and provisioning views check permission, customer scope and membership', () => {
  it('a viewer lacks settings.manage: 403, audited; a removed member: 401; another customer’s workflow: 404', async () => {
    const viewer = await createUser(ds);
    const membership = await addMember(ds, a, viewer, 'viewer');
    const agent = await signIn(app(), viewer.email);
    const provision = encodeURIComponent(`tenant/${a.tenant.id}/provision`);
    expect((await agent.get(`/api/workflows/${provision}`)).status).toBe(403);
    expect((await agent.get(`/api/tenants/${a.tenant.id}/provisioning`)).status).toBe(403);
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE action = 'permission_denied' AND actor_user_id = $1", [viewer.id])).toBe(2);

    const rita = await signIn(app(), restrictedUser.email);
    const otherCustomers = encodeURIComponent(`tenant/${a.tenant.id}/customer/${a.customers[1]!.id}/sync-inboxes`);
    expect((await rita.get(`/api/workflows/${otherCustomers}`)).status).toBe(404);

    await inA((m) => m.query('DELETE FROM memberships WHERE id = $1', [membership.id]));
    expect((await agent.get(`/api/workflows/${provision}`)).status).toBe(401);
    expect((await agent.get(`/api/tenants/${a.tenant.id}/provisioning`)).status).toBe(401);
  });
});

describe('6. Idempotency-Key is scoped to tenant + principal + customer and never replays a secret', () => {
  it('a replayed token issue answers 409 without the secret; the stored record holds no secret', async () => {
    const o = await signIn(app(), owner.email);
    const first = await o.post('/api/tokens').set('Idempotency-Key', 'k-token').send({ name: 'once' });
    expect(first.status).toBe(201);
    const replay = await o.post('/api/tokens').set('Idempotency-Key', 'k-token').send({ name: 'once' });
    expect(replay.status).toBe(409);
    expect(replay.body.error.code).toBe('secret_already_shown');
    expect(JSON.stringify(replay.body)).not.toContain(first.body.token);
    const stored = (await inA((m) => m.query("SELECT response::text AS r FROM idempotency_keys WHERE key = 'k-token'"))) as { r: string }[];
    expect(stored.length).toBe(1);
    expect(stored[0]!.r).not.toContain(first.body.token);
  });

  it('another principal with the same key gets its own answer, not the first caller’s', async () => {
    const o = await signIn(app(), owner.email);
    const admin = await signIn(app(), adminUser.email);
    const mine = await o.post('/api/customers').set('Idempotency-Key', 'shared-key').send({ name: 'Owner’s customer' });
    const theirs = await admin.post('/api/customers').set('Idempotency-Key', 'shared-key').send({ name: 'Owner’s customer' });
    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('the same member in another customer starts afresh; records expire after 24 hours', async () => {
    const o = await signIn(app(), owner.email);
    const body = { provider: 'smtp', fromEmail: 'x@agency.example', dailyCap: 5, smtp: { host: '127.0.0.1', port: 2525, secure: false } };
    const c0 = await o.post('/api/inboxes').set('X-Customer-Id', a.customers[0]!.id).set('Idempotency-Key', 'inbox-key').send(body);
    const c1 = await o.post('/api/inboxes').set('X-Customer-Id', a.customers[1]!.id).set('Idempotency-Key', 'inbox-key').send(body);
    expect(c0.status).toBe(201);
    expect(c1.status).toBe(201);
    expect(c1.body.id).not.toBe(c0.body.id);
    const again = await o.post('/api/customers').set('Idempotency-Key', 'old-key').send({ name: 'Old' });
    await inA((m) => m.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old-key'"));
    const later = await o.post('/api/customers').set('Idempotency-Key', 'old-key').send({ name: 'Old' });
    expect(later.status).toBe(201);
    expect(later.body.id).not.toBe(again.body.id);
  });
});

describe('7. sign-in limits count failures only, per account + client address, and lock nobody else out', () => {
  const login = (api: ReturnType<typeof app>, email: string, password: string, ip?: string, secret = CONSOLE_SECRET) => {
    const req = request(api.callback()).post('/api/auth/login');
    if (ip) req.set('X-Forwarded-For', ip).set('X-Tenantflow-Console', secret);
    return req.send({ email, password });
  };

  it('successful sign-ins do not count; failures from one address do not block another', async () => {
    const api = testApp(ds, { limits: { loginPerIp: 3 }, consoleSecret: CONSOLE_SECRET });
    for (let i = 0; i < 6; i++) expect((await login(api, owner.email, PASSWORD, '203.0.113.1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await login(api, `nobody${i}@example.test`, 'x', '203.0.113.66')).status).toBe(401);
    expect((await login(api, 'nobody@example.test', 'x', '203.0.113.66')).status).toBe(429);
    // Everyone else, through the same console, still signs in.
    expect((await login(api, adminUser.email, PASSWORD, '203.0.113.2')).status).toBe(200);
  });

  it('five wrong passwords slow that address down for that account only: the owner signs in from elsewhere', async () => {
    const api = app();
    const victim = await createUser(ds);
    for (let i = 0; i < 5; i++) expect((await login(api, victim.email, `wrong-${i}`, '198.51.100.9')).status).toBe(401);
    const attacker = await login(api, victim.email, PASSWORD, '198.51.100.9');
    expect(attacker.status).toBe(429);
    expect(attacker.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect((await login(api, victim.email, PASSWORD, '198.51.100.10')).status).toBe(200);
    // A fresh API process sees the same backoff (it is in the database).
    expect((await login(app(), victim.email, PASSWORD, '198.51.100.9')).status).toBe(429);
  });

  it('X-Forwarded-For is believed only with the console’s secret', async () => {
    const api = testApp(ds, { limits: { loginPerIp: 2 }, consoleSecret: CONSOLE_SECRET });
    for (let i = 0; i < 2; i++) await login(api, 'spoof@example.test', 'x', `192.0.2.${i + 1}`, 'wrong-secret');
    // Both counted against the real socket address, whatever the header said.
    expect((await login(api, 'spoof@example.test', 'x', '192.0.2.200', 'wrong-secret')).status).toBe(429);
  });
});

describe('8. SMTP settings never reach internal addresses', () => {
  const inboxBody = (host: string, port = 25) => ({
    provider: 'smtp',
    fromEmail: `x-${Math.random().toString(36).slice(2, 7)}@agency.example`,
    dailyCap: 5,
    smtp: { host, port, secure: false },
  });

  it('loopback, private, link-local, metadata and IPv6 loopback hosts are 400 with no network detail, and nothing is written', async () => {
    const o = await signIn(testApp(ds, { outbound: NO_EXCEPTIONS }), owner.email);
    const before = await count('SELECT count(*) AS n FROM inboxes');
    for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '192.168.0.10', '172.16.5.5', '169.254.169.254', '[::1]', '100.64.0.1', '0.0.0.0']) {
      const res = await o.post('/api/inboxes').set('X-Customer-Id', a.customers[0]!.id).send(inboxBody(host, 15432));
      expect({ host, status: res.status }).toEqual({ host, status: 400 });
      expect(res.body.error.details[0]).toMatchObject({ path: 'smtp.host', message: 'this host is not allowed: use a public mail server' });
    }
    expect(await count('SELECT count(*) AS n FROM inboxes')).toBe(before);
    // The operator's allow-list (the embedded sink) is the exception.
    const allowed = await signIn(testApp(ds, { outbound: parseOutboundAllowlist('127.0.0.1:2525') }), owner.email);
    expect((await allowed.post('/api/inboxes').set('X-Customer-Id', a.customers[0]!.id).send(inboxBody('127.0.0.1', 2525))).status).toBe(201);
    expect((await allowed.post('/api/inboxes').set('X-Customer-Id', a.customers[0]!.id).send(inboxBody('127.0.0.1', 2526))).status).toBe(400);
  });

  it('the send itself refuses an internal host, and a failed connection says nothing about the network', async () => {
    const mailOut = {
      messageId: '<m@x>',
      idempotencyKey: 'k',
      from: { email: 'a@agency.example', name: 'A' },
      to: 'b@example.test',
      subject: 's',
      text: 't',
      headers: {},
    };
    await expect(smtpProvider({ host: '127.0.0.1', port: 2525, secure: false }, NO_EXCEPTIONS).send(mailOut)).rejects.toMatchObject({
      nonRetryable: true,
      message: expect.stringMatching(/not allowed/),
    });
    const server = await startSmtpServer();
    const port = server.port;
    await server.stop();
    const err = (await smtpProvider({ host: '127.0.0.1', port, secure: false }, parseOutboundAllowlist('127.0.0.1'))
      .send(mailOut)
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(SMTP_UNREACHABLE);
  });
});

describe('9. the console’s ?next= never leaves the console', () => {
  it.each([
    ['/\\evil.example', '/'],
    ['//evil.example', '/'],
    ['/\\/evil.example', '/'],
    ['https://evil.example', '/'],
    ['/%09/evil.example', '/%09/evil.example'],
    ['/campaigns?status=active#x', '/campaigns?status=active#x'],
    [null, '/'],
  ])('%s → %s', (next, expected) => {
    expect(safeNext(next)).toBe(expected);
    expect(new URL(safeNext(next), 'http://console.test').origin).toBe('http://console.test');
  });
});

describe('10. cookie-authenticated mutations need a same-origin browser', () => {
  it('a cross-site form POST with the session cookie is 403 and changes nothing; the console’s origin and tokens pass', async () => {
    const o = await signIn(app(), owner.email);
    const before = await count('SELECT count(*) AS n FROM customers');
    expect((await o.post('/api/customers').set('Origin', 'http://evil.example').send({ name: 'CSRF' })).status).toBe(403);
    expect((await o.post('/api/customers').set('Sec-Fetch-Site', 'same-site').send({ name: 'CSRF' })).status).toBe(403);
    // Bodyless: signing out from another site is refused too.
    expect((await o.post('/api/auth/logout').set('Origin', 'http://evil.example')).status).toBe(403);
    expect(await count('SELECT count(*) AS n FROM customers')).toBe(before);
    expect((await o.get('/api/auth/me')).status).toBe(200);
    expect((await o.post('/api/customers').set('Origin', CONSOLE).send({ name: 'From the console' })).status).toBe(201);
    const token = (await o.post('/api/tokens').send({ name: 'script' })).body.token as string;
    expect(
      (
        await request(app().callback())
          .post('/api/customers')
          .set('Origin', 'http://evil.example')
          .set('Authorization', `Bearer ${token}`)
          .send({ name: 'Script' })
      ).status,
    ).toBe(201);
  });

  it('sets Secure on the session cookie when asked (compose and https deployments)', async () => {
    const res = await request(testApp(ds, { secureCookies: true }).callback())
      .post('/api/auth/login')
      .send({ email: owner.email, password: PASSWORD });
    expect(String(res.headers['set-cookie'])).toMatch(/;\s*secure/i);
  });
});

describe('13. a NUL character is a 400 everywhere, never a 500', () => {
  it('in bodies, query strings, path segments, CSV cells, public registration and signed webhooks', async () => {
    const o = await signIn(app(), owner.email);
    const before = await count('SELECT count(*) AS n FROM customers');
    const cases = [
      await o.post('/api/customers').send({ name: 'a\u0000b' }),
      await o.post('/api/customers').send({ name: 'ok', ['x\u0000']: 1 }),
      await o.get('/api/customers?q=%00'),
      await o.get('/api/customers/cust_%00'),
      await o
        .post(`/api/campaigns/cmp_${'0'.repeat(26)}/leads`)
        .set('X-Customer-Id', a.customers[0]!.id)
        .set('content-type', 'text/csv')
        .send('email,firstName\nx@example.test,A\u0000B\n'),
      await request(app().callback())
        .post('/api/tenants/register')
        .send({ name: 'N\u0000', slug: 'nul-co', externalCustomerId: 'nul', industry: 'agency', owner: { email: 'nul@example.test', name: 'N' } }),
      await postEmailWebhook(testApp(ds, { emailWebhookSecrets: { smartlead: 'webhook-secret-0123456789' } }), 'webhook-secret-0123456789', {
        id: 'e\u0000',
        type: 'reply',
        messageId: '<x>',
      }),
    ];
    expect(cases.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400, 400]);
    for (const r of cases) expect(r.body.error.message).toMatch(/NUL|U\+0000/);
    expect(await count('SELECT count(*) AS n FROM customers')).toBe(before);
  });
});

describe('14. deleting a customer that has campaigns is a 409 naming them', () => {
  it('answers 409 customer_in_use and keeps the customer', async () => {
    const o = await signIn(app(), owner.email);
    const cust = (await o.post('/api/customers').send({ name: 'Has campaigns' })).body.id as string;
    const inbox = await o
      .post('/api/inboxes')
      .set('X-Customer-Id', cust)
      .send({ provider: 'smtp', fromEmail: 'c@agency.example', dailyCap: 5, smtp: { host: '127.0.0.1', port: 2525, secure: false } });
    const cmp = await o
      .post('/api/campaigns')
      .set('X-Customer-Id', cust)
      .send({ name: 'Blocking', inboxIds: [inbox.body.id], schedule: ALWAYS_OPEN });
    expect(cmp.status).toBe(201);
    const res = await o.delete(`/api/customers/${cust}`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'customer_in_use', details: { campaigns: [{ id: cmp.body.id, name: 'Blocking' }] } });
    expect((await o.get(`/api/customers/${cust}`)).status).toBe(200);
  });
});

describe('15–17. lookups, limits and the contract', () => {
  it('provider names like __proto__ are unknown providers (404), not a crash', async () => {
    const api = request(testApp(ds, { emailWebhookSecrets: { smartlead: 'webhook-secret-0123456789' } }).callback());
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const res = await api.post(`/api/webhooks/email/${name}`).set('content-type', 'application/json').send('{}');
      expect({ name, status: res.status }).toEqual({ name, status: 404 });
    }
  });

  it('?version beyond int4 is a 400, and the document declares the maximum', async () => {
    const o = await signIn(app(), owner.email);
    const res = await o.get(`/api/campaigns/cmp_${'0'.repeat(26)}/sequence?version=2147483648`).set('X-Customer-Id', a.customers[0]!.id);
    expect(res.status).toBe(400);
    const doc = (await request(app().callback()).get('/api/openapi.json')).body;
    const version = doc.paths['/api/campaigns/{id}/sequence'].get.parameters.find((p: { name: string }) => p.name === 'version');
    expect(version.schema.maximum).toBe(2147483647);
  });

  it('an instant PostgreSQL cannot hold is a 400, not a 500', async () => {
    const o = await signIn(app(), owner.email);
    expect((await o.get('/api/audit?since=0000-01-01T00:00:00Z')).status).toBe(400);
    expect((await o.get('/api/audit?since=2026-01-01T00:00:00Z')).status).toBe(200);
  });

  it('TRACE is 405; a body the server does not require is not required in the document', async () => {
    const res = await request(app().callback()).trace('/api/customers');
    expect(res.status).toBe(405);
    const doc = (await request(app().callback()).get('/api/openapi.json')).body;
    expect(doc.paths['/api/roles/{id}/clone'].post.requestBody.required).toBe(false);
    expect(doc.paths['/api/customers'].post.requestBody.required).toBe(true);
  });
});

describe('5. every route enforces the permission its declaration names', () => {
  it('a token without permissions gets 403 (audited) from every tenant route that declares one', async () => {
    const instance = app();
    const bare = await tokenWith([]);
    const api = request(instance.callback());
    const declared = [
      ...new Map(
        routeSpecsOf(instance)
          .filter((r) => r.auth === 'tenant' && r.permission)
          .map((r) => [`${r.method} ${r.path}`, r]),
      ).values(),
    ];
    expect(declared.length).toBeGreaterThan(40);
    const wrong: string[] = [];
    for (const r of declared) {
      const path = r.path.replace(/:[A-Za-z]+/g, 'x_00000000000000000000000000');
      const call = (api as unknown as Record<string, (p: string) => request.Test>)[r.method]!(path)
        .set('Authorization', `Bearer ${bare}`)
        .set('X-Customer-Id', a.customers[0]!.id);
      const res = r.method === 'get' || r.method === 'delete' ? await call : await call.send({});
      if (res.status !== 403 || res.body.error?.details?.permission !== r.permission)
        wrong.push(`${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE action = 'permission_denied' AND actor_token_id IS NOT NULL")).toBeGreaterThanOrEqual(
      declared.length,
    );
  });
});

describe('5. every route enforces the customer scope its declaration names', () => {
  it('a member restricted to one customer, naming another, gets 400 (lists and creation) or the resource’s 404 (one resource), and nothing is written', async () => {
    const instance = app();
    const api = request(instance.callback());
    // Every permission, so the customer scope is the only thing that can refuse.
    const restricted = await tokenWith([...ALL_PERMISSIONS], a.customers[0]!.id);
    const declared = [
      ...new Map(
        routeSpecsOf(instance)
          .filter((r) => r.customer)
          .map((r) => [`${r.method} ${r.path}`, r]),
      ).values(),
    ];
    expect(declared.filter((r) => r.customer === 'required').length).toBeGreaterThan(5);
    expect(declared.filter((r) => r.customer === 'addressed').length).toBeGreaterThan(20);
    const tables = ['customers', 'campaigns', 'leads', 'sequences', 'sequence_steps', 'inboxes', 'enrollments', 'messages'];
    const counts = () => Promise.all(tables.map((t) => count(`SELECT count(*) AS n FROM ${t}`)));
    const before = await counts();
    const wrong: string[] = [];
    for (const r of declared) {
      const path = r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => newId(r.params![name]!.prefix as Parameters<typeof newId>[0]));
      const call = (api as unknown as Record<string, (p: string) => request.Test>)[r.method]!(path)
        .set('Authorization', `Bearer ${restricted}`)
        .set('X-Customer-Id', a.customers[1]!.id);
      const res = r.method === 'get' || r.method === 'delete' ? await call : await call.send({});
      const resource = Object.values(r.params ?? {})[0]?.resource;
      const expected = r.customer === 'required' ? { status: 400, code: 'invalid_customer_context' } : { status: 404, message: `${resource} not found` };
      const got = { status: res.status, ...(r.customer === 'required' ? { code: res.body.error?.code } : { message: res.body.error?.message }) };
      if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push(`${r.method} ${r.path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    expect(wrong).toEqual([]);
    expect(await counts()).toEqual(before);
  });
});

describe('17. the document describes every answer', () => {
  it('every route declares its success response (a schema, or 204 / an HTML page), and publishes it', async () => {
    const missing = [...new Map(routeSpecsOf(app()).map((r) => [`${r.method} ${r.path}`, r])).values()]
      .filter((r) => !r.response && !r.html && !r.download && !r.redirect && r.status !== 204)
      .map((r) => `${r.method} ${r.path}`);
    expect(missing).toEqual([]);
    const doc = (await request(app().callback()).get('/api/openapi.json')).body;
    expect(doc.paths['/api/customers/{id}'].get.responses['200'].content['application/json'].schema).toMatchObject({
      type: 'object',
      additionalProperties: false,
    });
    // No catch-all: each status an operation can answer is listed.
    expect(doc.paths['/api/customers/{id}'].get.responses.default).toBeUndefined();
  });
});

describe('5. the declaration is the authority', () => {
  it('a route whose handler checks nothing still refuses a caller without the declared permission (audited)', async () => {
    const r = new Routes(ds);
    let ran = false;
    r.add({ method: 'get', path: '/forgot', summary: 't', tag: 't', auth: 'tenant', permission: 'customers.write' }, async () => {
      ran = true;
      return {};
    });
    const k = new Koa<AppState>();
    k.use(errorBoundary());
    k.use(authenticate(ds));
    k.use(r.router.routes());
    const reader = await tokenWith(['customers.read']);
    const res = await request(k.callback()).get('/forgot').set('Authorization', `Bearer ${reader}`);
    expect(res.status).toBe(403);
    expect(res.body.error.details.permission).toBe('customers.write');
    expect(ran).toBe(false);
    expect(await count("SELECT count(*) AS n FROM audit_log WHERE action = 'permission_denied' AND details->>'path' = '/forgot'")).toBe(1);
  });
});
