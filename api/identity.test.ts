// Identity hardening (docs/security.md, "Identity"): each test performs an
// attack from the outside review and asserts what the attacker gets — the
// status and code, that nothing was written, and that nothing was revealed.
import { Client, Connection } from '@temporalio/client';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { AddressVerification1730000013000 } from '../migrations/1730000013000-address-verification';
import { ensurePlatformAdmin, PlatformAdminConflict } from '../db/platformAdmin';
import { newId, uuidv7 } from '../db/ids';
import { peek, take } from '../services/rateLimit';
import { withTenant } from '../db/tenantContext';
import { mailSafeName, smtpPlatformMailer, type PlatformMail } from '../lib/platformMail';
import { hashPassword } from '../lib/passwords';
import { createSession } from '../services/access/sessions';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { startSmtpServer } from '../test/helpers/smtp';
import { temporalAddress, uniqueTaskQueue, withProjectWorker } from '../test/helpers/temporal';

let db: TestDatabase;
let ds: DataSource;
let apiTemporal: Connection;
let company: TenantFixture;
let companyOwner: Awaited<ReturnType<typeof createUser>>;
const mail: PlatformMail[] = [];
const CONSOLE = 'http://console.test';
const CONSOLE_SECRET = 'identity-test-console-secret';
const taskQueue = uniqueTaskQueue('identity');
const mailer = async (m: PlatformMail) => {
  mail.push(m);
};
const app = (overrides: Parameters<typeof testApp>[1] = {}) =>
  testApp(ds, {
    client: new Client({ connection: apiTemporal }),
    taskQueue,
    mailer,
    consoleUrl: CONSOLE,
    consoleSecret: CONSOLE_SECRET,
    limits: { registrationsPerIp: 100 },
    ...overrides,
  });

beforeAll(async () => {
  db = await createTestDatabase('identity');
  ds = await openDataSource(db.appUrl, 'tenantflow-identity-test');
  apiTemporal = await Connection.connect({ address: temporalAddress() });
  company = await createTenant(ds, { name: 'Victim Corp', customers: 2 });
  companyOwner = await createUser(ds, { name: 'Corp Owner' });
  await addMember(ds, company, companyOwner, 'owner');
});

afterAll(async () => {
  await apiTemporal?.close();
  await ds?.destroy();
  await db?.drop();
});

const inCompany = <T>(fn: Parameters<typeof withTenant<T>>[2]) => withTenant(ds, company.tenant.id, fn);
const count = async (sql: string, params: unknown[] = []) => Number(((await inCompany((m) => m.query(sql, params))) as { n: string }[])[0]!.n);
const linkIn = (m: PlatformMail | undefined) => m?.text.match(/\/invite\/(inv_\S+)/)?.[1];
const login = (email: string, password: string) => request(app().callback()).post('/api/auth/login').send({ email, password });

let n = 0;
function registration(ownerEmail: string, password: string | undefined, name = 'Some Agency') {
  n += 1;
  const k = `${Date.now().toString(36)}${n}`;
  return {
    name,
    slug: `signup-${k}`,
    externalCustomerId: `crm-${k}`,
    industry: 'agency',
    owner: { email: ownerEmail, name: 'Whoever', ...(password ? { password } : {}) },
  };
}

async function waitActive(tenantId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [t] = (await ds.query('SELECT status FROM tenants WHERE id = $1', [tenantId])) as { status: string }[];
    if (t?.status === 'active') return;
    if (t?.status === 'failed') throw new Error('provisioning failed');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tenant ${tenantId} did not become active`);
}

describe('account pre-hijacking: a public sign-up proves its address before its password counts', () => {
  const victim = `new-hire-${Date.now()}@victim.example`;
  const honest = `founder-${Date.now()}@honest.example`;
  const vouched = `vouched-${Date.now()}@client.example`;
  let attackerTenant = '';
  let honestTenant = '';
  let honestLink = '';

  it('provisions public sign-ups with unverified owners, mailed a link; the platform admin’s tenant keeps its owner’s password', async () => {
    const platformAdmin = await createUser(ds, { platformAdmin: true });
    const admin = await signIn(app(), platformAdmin.email);
    mail.length = 0;
    await withProjectWorker({ dataSource: ds, taskQueue, mailer, consoleUrl: CONSOLE }, async () => {
      const attack = await request(app().callback())
        .post('/api/tenants/register')
        .send(registration(victim, 'attacker password 1', 'Claim your bonus at https://evil.example/now'));
      const own = await request(app().callback()).post('/api/tenants/register').send(registration(honest, 'founder password 1'));
      const byAdmin = await admin.post('/api/tenants').send(registration(vouched, 'vouched password 1'));
      expect([attack.status, own.status, byAdmin.status]).toEqual([202, 202, 202]);
      attackerTenant = attack.body.tenant.id;
      honestTenant = own.body.tenant.id;
      await Promise.all([waitActive(attackerTenant), waitActive(honestTenant), waitActive(byAdmin.body.tenant.id)]);
    });
    // Each public sign-up's address got a verification link; the vouched owner got none.
    expect(mail.map((m) => m.to).sort()).toEqual([honest, victim].sort());
    honestLink = linkIn(mail.find((m) => m.to === honest))!;
    const toVictim = mail.find((m) => m.to === victim)!;
    expect(toVictim.subject).toBe('Confirm your address for Tenantflow');
    expect(toVictim.text).not.toMatch(/evil\.example|https:\/\/evil/);
    const flags = (await ds.query('SELECT email, email_verified_at IS NOT NULL AS verified FROM users WHERE email = ANY($1) ORDER BY email', [
      [victim, honest, vouched],
    ])) as { email: string; verified: boolean }[];
    expect(Object.fromEntries(flags.map((f) => [f.email, f.verified]))).toEqual({ [victim]: false, [honest]: false, [vouched]: true });
    expect((await login(vouched, 'vouched password 1')).status).toBe(200);
  });

  it('the unverified password fails exactly like a wrong one, and an old session of the account is dead', async () => {
    const attacker = await login(victim, 'attacker password 1');
    const nobody = await login(`nobody-${Date.now()}@victim.example`, 'attacker password 1');
    expect(attacker.status).toBe(401);
    expect(attacker.body).toEqual(nobody.body);
    expect(attacker.body.error.code).toBe('invalid_credentials');
    expect(attacker.headers['set-cookie']).toBeUndefined();
    // A session opened before verification began (the migration revokes those; this one is forged) opens nothing.
    const [user] = (await ds.query('SELECT id FROM users WHERE email = $1', [victim])) as { id: string }[];
    const secret = await createSession(ds, user!.id, attackerTenant);
    const forged = request.agent(app().callback());
    const me = await forged.get('/api/auth/me').set('Cookie', `tf_session=${secret}`);
    expect(me.status).toBe(401);
  });

  it('an invitation to the address never attaches to the unverified account: its follower sets the password, the attacker is out', async () => {
    const corp = await signIn(app(), companyOwner.email);
    mail.length = 0;
    const [user] = (await ds.query('SELECT id FROM users WHERE email = $1', [victim])) as { id: string }[];
    const session = await createSession(ds, user!.id, attackerTenant);
    const invited = await corp.post('/api/members').send({ email: victim, name: 'New Hire', roleId: company.roles.viewer });
    const fresh = await corp.post('/api/members').send({ email: `someone-${Date.now()}@victim.example`, name: 'New Hire', roleId: company.roles.viewer });
    expect(invited.status).toBe(202);
    const shape = (b: { invite: Record<string, unknown> }) => ({ ...b.invite, id: 'x', email: 'x', expiresAt: 'x' });
    expect(shape(invited.body)).toEqual(shape(fresh.body));
    // The attacker's password accepts nothing, signed in or through the API.
    expect((await login(victim, 'attacker password 1')).status).toBe(401);
    const attackerAgent = request(app().callback());
    expect((await attackerAgent.get('/api/auth/invites').set('Cookie', `tf_session=${session}`)).status).toBe(401);
    const membersBefore = await count('SELECT count(*) AS n FROM memberships WHERE user_id = $1', [user!.id]);
    expect(membersBefore).toBe(0);

    // The address's owner follows the mailed link and chooses a password.
    // An API token the account minted in its sign-up's tenant before verification began (forged here).
    const tokenId = newId('tok');
    await withTenant(ds, attackerTenant, async (m) => {
      const [owner] = (await m.query("SELECT id FROM roles WHERE key = 'owner'")) as { id: string }[];
      await m.query(
        "INSERT INTO api_tokens (tenant_id, id, name, token_hash, prefix, role_id, created_by) VALUES ($1, $2, 'minted before', $3, 'tf_x', $4, $5)",
        [attackerTenant, tokenId, `hash-${tokenId}`, owner!.id, user!.id],
      );
    });
    const token = linkIn(mail.find((m) => m.to === victim))!;
    const accepted = await request(app().callback()).post('/api/auth/accept-invite').send({ token, password: 'the real new hire' });
    expect(accepted.status).toBe(204);
    expect(await count('SELECT count(*) AS n FROM memberships WHERE user_id = $1', [user!.id])).toBe(1);
    // The unverified password and every session of the account are gone.
    expect((await login(victim, 'attacker password 1')).status).toBe(401);
    const [s] = (await ds.query('SELECT revoked_at FROM sessions WHERE user_id = $1 AND revoked_at IS NULL', [user!.id])) as unknown[];
    expect(s).toBeUndefined();
    // So is every API token it minted.
    const [minted] = await withTenant(ds, attackerTenant, (m) => m.query('SELECT revoked_at IS NOT NULL AS revoked FROM api_tokens WHERE id = $1', [tokenId]));
    expect(minted).toEqual({ revoked: true });
    const real = await login(victim, 'the real new hire');
    expect(real.status).toBe(200);
    expect(real.body.tenants.map((t: { name: string }) => t.name)).toContain('Victim Corp');
  });

  it('the honest registrant follows the verification link, chooses the password, and then signs in to the tenant', async () => {
    expect((await login(honest, 'founder password 1')).status).toBe(401);
    expect((await request(app().callback()).post('/api/auth/accept-invite').send({ token: honestLink, password: 'founder password 1' })).status).toBe(204);
    const res = await login(honest, 'founder password 1');
    expect(res.status).toBe(200);
    expect(res.body.currentTenantId).toBe(honestTenant);
  });

  it('asking for a fresh link answers the same for any address and mails only an unverified account', async () => {
    const unverified = await createUser(ds, { unverified: true });
    await addMember(ds, company, unverified, 'viewer');
    const verified = await createUser(ds);
    await addMember(ds, company, verified, 'viewer');
    mail.length = 0;
    const api = app();
    const answers: { status: number; body: unknown }[] = [];
    for (const email of [unverified.email, verified.email, `ghost-${Date.now()}@example.test`]) {
      const res = await request(api.callback()).post('/api/auth/verification').send({ email });
      answers.push({ status: res.status, body: res.body });
    }
    expect(answers.every((a) => a.status === 204 && JSON.stringify(a.body) === JSON.stringify(answers[0]!.body))).toBe(true);
    const deadline = Date.now() + 5000;
    while (mail.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.map((m) => m.to)).toEqual([unverified.email]);
    expect((await login(unverified.email, PASSWORD)).status).toBe(401);
    expect(
      (
        await request(api.callback())
          .post('/api/auth/accept-invite')
          .send({ token: linkIn(mail[0]), password: 'proven password 1' })
      ).status,
    ).toBe(204);
    expect((await login(unverified.email, 'proven password 1')).status).toBe(200);
    // Per address: three an hour, then 429 with Retry-After, whoever asks.
    for (let i = 0; i < 2; i++) expect((await request(api.callback()).post('/api/auth/verification').send({ email: verified.email })).status).toBe(204);
    const over = await request(api.callback()).post('/api/auth/verification').send({ email: verified.email });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('the migration marks accounts a registration gave a password unverified and ends their sessions', () => {
  it('keeps invited, platform-admin and link-proven accounts verified', async () => {
    const mdb = await createTestDatabase('identity-migration');
    const owner = await openDataSource(mdb.ownerUrl, 'tenantflow-identity-migration');
    try {
      const migration = new AddressVerification1730000013000();
      const qr = owner.createQueryRunner();
      await migration.down(qr);
      const hash = await hashPassword(PASSWORD);
      const ids = { registered: newId('usr'), linkProven: newId('usr'), member: newId('usr'), admin: newId('usr'), invitee: newId('usr') };
      const insertUser = (id: string, password: string | null, admin = false) =>
        owner.query('INSERT INTO users (id, email, name, password_hash, is_platform_admin) VALUES ($1, $2, $3, $4, $5)', [
          id,
          `${id}@example.test`,
          'x',
          password,
          admin,
        ]);
      await insertUser(ids.registered, hash);
      await insertUser(ids.linkProven, hash);
      await insertUser(ids.member, hash);
      await insertUser(ids.admin, hash, true);
      await insertUser(ids.invitee, null);
      const t1 = uuidv7();
      const t2 = uuidv7();
      for (const [t, u] of [
        [t1, ids.registered],
        [t2, ids.linkProven],
      ] as const) {
        await owner.query("INSERT INTO tenants (id, slug, name, status, provisioning) VALUES ($1, $2, 'T', 'active', $3::jsonb)", [
          t,
          `m-${t.slice(-12)}`,
          JSON.stringify({ ownerCreatedByProvisioning: u }),
        ]);
      }
      // The owner registered without a password set it through the link.
      await withTenant(owner, t2, (m) =>
        m.query("INSERT INTO invites (tenant_id, id, user_id, token_hash, expires_at, accepted_at) VALUES ($1, $2, $3, 'h', now(), now())", [
          t2,
          newId('inv'),
          ids.linkProven,
        ]),
      );
      for (const u of Object.values(ids)) {
        await owner.query("INSERT INTO sessions (id_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '1 day')", [`h-${u}`, u]);
      }
      await migration.up(qr);
      await qr.release();
      const rows = (await owner.query(
        'SELECT u.id, u.email_verified_at IS NOT NULL AS verified, s.revoked_at IS NOT NULL AS revoked FROM users u JOIN sessions s ON s.user_id = u.id',
      )) as { id: string; verified: boolean; revoked: boolean }[];
      const by = Object.fromEntries(rows.map((r) => [r.id, { verified: r.verified, revoked: r.revoked }]));
      expect(by[ids.registered]).toEqual({ verified: false, revoked: true });
      expect(by[ids.linkProven]).toEqual({ verified: true, revoked: false });
      expect(by[ids.member]).toEqual({ verified: true, revoked: false });
      expect(by[ids.admin]).toEqual({ verified: true, revoked: false });
      // No password: nothing to sign in with; the invitation's link proves it later.
      expect(by[ids.invitee]).toEqual({ verified: false, revoked: true });
    } finally {
      await owner.destroy();
      await mdb.drop();
    }
  });
});

describe('a member restricted to one customer manages only that customer’s tokens', () => {
  it('lists its customer’s tokens only, and revoking the owner’s token answers 404 like a missing one and revokes nothing', async () => {
    const helperRole = await withTenant(ds, company.tenant.id, async (m) => {
      const id = newId('role');
      await m.query('INSERT INTO roles (tenant_id, id, name, key, is_system) VALUES ($1, $2, $3, NULL, false)', [company.tenant.id, id, 'Token helper']);
      for (const p of ['customers.read', 'tokens.manage']) {
        await m.query('INSERT INTO role_permissions (tenant_id, role_id, permission) VALUES ($1, $2, $3)', [company.tenant.id, id, p]);
      }
      return id;
    });
    company.roles.tokenHelper = helperRole;
    const restricted = await createUser(ds);
    await addMember(ds, company, restricted, 'tokenHelper', company.customers[0]!.id);
    const peer = await createUser(ds);
    await addMember(ds, company, peer, 'tokenHelper', company.customers[1]!.id);

    const corp = await signIn(app(), companyOwner.email);
    const ownersToken = await corp.post('/api/tokens').send({ name: 'owner token' });
    const r = await signIn(app(), restricted.email);
    const mine = await r.post('/api/tokens').send({ name: 'mine' });
    const other = await (await signIn(app(), peer.email)).post('/api/tokens').send({ name: 'other customer' });
    expect([ownersToken.status, mine.status, other.status]).toEqual([201, 201, 201]);

    const listed = await r.get('/api/tokens');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([mine.body.id]);

    const missing = await r.delete(`/api/tokens/${newId('tok')}`);
    expect(missing.status).toBe(404);
    for (const target of [ownersToken.body.id, other.body.id]) {
      const res = await r.delete(`/api/tokens/${target}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(missing.body);
    }
    expect(await count('SELECT count(*) AS n FROM api_tokens WHERE revoked_at IS NOT NULL AND id = ANY($1)', [[ownersToken.body.id, other.body.id]])).toBe(0);
    // The owner's token still works; the restricted member's own revokes.
    expect((await request(app().callback()).get('/api/auth/me').set('Authorization', `Bearer ${ownersToken.body.token}`)).status).toBe(200);
    expect((await r.delete(`/api/tokens/${mine.body.id}`)).status).toBe(204);
    // Unrestricted, the owner still sees and manages every token.
    expect((await corp.get('/api/tokens')).body.data.length).toBeGreaterThanOrEqual(3);
  });
});

describe('the platform admin is never a promoted tenant user', () => {
  it('refuses to start when PLATFORM_ADMIN_EMAIL belongs to a tenant user, with or without a password, and changes nothing', async () => {
    const member = await createUser(ds, { name: 'Tenant Member' });
    await addMember(ds, company, member, 'viewer');
    const before = (await ds.query('SELECT password_hash, is_platform_admin FROM users WHERE id = $1', [member.id])) as unknown[];
    for (const password of [undefined, 'operator chosen password']) {
      const attempt = ensurePlatformAdmin(ds, { email: member.email, password });
      await expect(attempt).rejects.toBeInstanceOf(PlatformAdminConflict);
      await expect(attempt).rejects.toThrow(/belongs to a tenant user/);
    }
    expect(await ds.query('SELECT password_hash, is_platform_admin FROM users WHERE id = $1', [member.id])).toEqual(before);
    // A tenant user that an earlier start promoted still holds its membership: refused as well.
    const promoted = await createUser(ds, { name: 'Promoted Member' });
    await addMember(ds, company, promoted, 'viewer');
    await ds.query('UPDATE users SET is_platform_admin = true WHERE id = $1', [promoted.id]);
    await expect(ensurePlatformAdmin(ds, { email: promoted.email })).rejects.toBeInstanceOf(PlatformAdminConflict);
    // A separate address: created (verified, vouched by the operator), and ensured again on the next start.
    const email = `ops-${Date.now()}@tenantflow.test`;
    const created = await ensurePlatformAdmin(ds, { email });
    expect(created.created).toBe(true);
    expect((await ensurePlatformAdmin(ds, { email })).created).toBe(false);
    expect((await login(email, created.generatedPassword!)).status).toBe(200);
  });
});

describe('invitations cannot be a phishing relay', () => {
  it('the From is the platform’s, the subject names nobody, and chosen names reach the body as short plain text without links', async () => {
    const smtp = await startSmtpServer();
    try {
      const lure = await createTenant(ds, { name: 'Your account is locked! Verify at https://evil.example/login or www.evil.example' });
      const sender = await createUser(ds, { name: 'Security Team <security@evil.example> evil.example/reset' });
      await addMember(ds, lure, sender, 'owner');
      const smtpApp = app({ mailer: smtpPlatformMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Tenantflow <no-reply@tenantflow.test>' }) });
      const agent = await signIn(smtpApp, sender.email);
      expect((await agent.post('/api/members').send({ email: 'target@example.test', name: 'Target', roleId: lure.roles.viewer })).status).toBe(202);
      const [received] = await smtp.waitFor(1, 10_000);
      const parsed = received!.parsed;
      expect(parsed.from?.value).toEqual([{ name: 'Tenantflow', address: 'no-reply@tenantflow.test' }]);
      expect(parsed.subject).toBe('You are invited to a workspace on Tenantflow');
      const body = parsed.text ?? '';
      expect(body).not.toMatch(/evil|https?:\/\/(?!console\.test)|www\./i);
      // The only link is the invitation's own.
      expect(body.match(/https?:\/\/\S+/g)).toEqual([expect.stringMatching(/^http:\/\/console\.test\/invite\/inv_/)]);
      expect(body).toContain('Your account is locked! Verify at or');
    } finally {
      await smtp.stop();
    }
    expect(mailSafeName('Acme Ltd. — Sales & Marketing', 'x')).toBe('Acme Ltd. — Sales & Marketing');
    expect(mailSafeName('x'.repeat(200), 'x')).toHaveLength(60);
    expect(mailSafeName('pay at evil\uFF0Eexample\u202E or mailto:a', 'fallback')).toBe('pay at or');
    expect(mailSafeName('https://only.a/link', 'fallback')).toBe('fallback');
  });

  it('five invitations per inviter per ten minutes and twenty per tenant per hour, shared by every API process: then 429 with Retry-After and nothing written', async () => {
    const t = await createTenant(ds, { name: 'Spammy' });
    const spammer = await createUser(ds);
    await addMember(ds, t, spammer, 'owner');
    const processes = [app(), app()];
    const inT = (sql: string) => withTenant(ds, t.tenant.id, (m) => m.query(sql)) as Promise<{ n: number }[]>;
    const invites = async () => (await inT('SELECT count(*)::int AS n FROM invites'))[0]!.n;
    const agents = await Promise.all(processes.map((p) => signIn(p, spammer.email)));
    mail.length = 0;
    for (let i = 0; i < 5; i++) {
      const res = await agents[i % 2]!.post('/api/members').send({ email: `spam-${i}@example.test`, name: 'S', roleId: t.roles.viewer });
      expect(res.status).toBe(202);
    }
    const over = await agents[1]!.post('/api/members').send({ email: 'spam-over@example.test', name: 'S', roleId: t.roles.viewer });
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe('rate_limited');
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(500);
    expect(await invites()).toBe(5);
    expect(mail).toHaveLength(5);
    expect((await ds.query('SELECT 1 FROM users WHERE email = $1', ['spam-over@example.test'])) as unknown[]).toHaveLength(0);

    // A token the spammer mints is the spammer still: minting does not multiply the cap.
    const owner = agents[0]!;
    const minted = (await owner.post('/api/tokens').send({ name: 'spammer token', roleId: t.roles.admin })).body.token as string;
    const byToken = await request(processes[0]!.callback())
      .post('/api/members')
      .set('Authorization', `Bearer ${minted}`)
      .send({ email: 'spam-token@example.test', name: 'S', roleId: t.roles.viewer });
    expect([byToken.status, byToken.body.error?.code]).toEqual([429, 'rate_limited']);
    expect(await invites()).toBe(5);

    // Other inviters (tokens other owners minted) fill the tenant's hour: twenty in all.
    for (let k = 0; k < 3; k++) {
      const other = await createUser(ds);
      await addMember(ds, t, other, 'owner');
      const otherAgent = await signIn(processes[k % 2]!, other.email);
      const token = (await otherAgent.post('/api/tokens').send({ name: `inviter ${k}`, roleId: t.roles.admin })).body.token as string;
      for (let i = 0; i < 5; i++) {
        const res = await request(processes[i % 2]!.callback())
          .post('/api/members')
          .set('Authorization', `Bearer ${token}`)
          .send({ email: `t${k}-${i}@example.test`, name: 'S', roleId: t.roles.viewer });
        expect(res.status).toBe(202);
      }
    }
    expect(await invites()).toBe(20);
    const freshOwner = await createUser(ds);
    await addMember(ds, t, freshOwner, 'owner');
    const fresh = (await (await signIn(processes[0]!, freshOwner.email)).post('/api/tokens').send({ name: 'fresh inviter', roleId: t.roles.admin })).body
      .token as string;
    const tenantOver = await request(processes[0]!.callback())
      .post('/api/members')
      .set('Authorization', `Bearer ${fresh}`)
      .send({ email: 'tenant-over@example.test', name: 'S', roleId: t.roles.viewer });
    expect(tenantOver.status).toBe(429);
    expect(tenantOver.body.error.code).toBe('rate_limited');
    expect(Number(tenantOver.headers['retry-after'])).toBeGreaterThan(3000);
    expect(await invites()).toBe(20);
  });
});

describe('the shared rate limiter', () => {
  it('allows exactly the limit under concurrency, slides its window, and peeks without counting', async () => {
    const bucket = `test:${newId('usr')}`;
    const results = await Promise.all(Array.from({ length: 25 }, () => take(ds, bucket, 10, 60_000)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    expect(results.filter((r) => !r.allowed).every((r) => r.retryAfterSeconds >= 1 && r.retryAfterSeconds <= 60)).toBe(true);
    expect((await peek(ds, bucket, 10, 60_000)).allowed).toBe(false);
    expect((await peek(ds, bucket, 11, 60_000)).allowed).toBe(true);

    const short = `test:${newId('usr')}`;
    expect((await take(ds, short, 1, 700)).allowed).toBe(true);
    expect((await take(ds, short, 1, 700)).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 800));
    expect((await take(ds, short, 1, 700)).allowed).toBe(true);
  });

  it('takes a bucket whose expired row a concurrent sweep deletes, never failing', async () => {
    // Windows of 1 ms: every row is expired by the next take, and a sweep
    // deletes it between a take's insert and its locking read.
    const buckets = Array.from({ length: 4 }, () => `test:${newId('usr')}`);
    const sweep = () => ds.query('DELETE FROM rate_limits WHERE bucket = ANY($1) AND expires_at < now()', [buckets]);
    const deadline = Date.now() + 20_000;
    let takes = 0;
    for (let round = 0; round < 150 && Date.now() < deadline; round++) {
      const results = await Promise.all([...buckets.map((b) => take(ds, b, 1, 1)), sweep(), sweep(), ...buckets.map((b) => take(ds, b, 1, 1))]);
      takes += results.filter((r) => r && typeof r === 'object' && 'allowed' in r).length;
    }
    expect(takes).toBeGreaterThan(400);
  });

  it('the per-address sign-in cap holds against parallel guesses, and a success takes no slot', async () => {
    const api = app({ limits: { loginPerIp: 3 } });
    const attempt = (address: string, email: string, password: string) =>
      request(api.callback()).post('/api/auth/login').set('X-Forwarded-For', address).set('X-Tenantflow-Console', CONSOLE_SECRET).send({ email, password });
    const guesses = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt('198.51.100.91', `guess-${i}@example.test`, 'wrong')));
    expect(guesses.filter((g) => g.status === 401)).toHaveLength(3);
    expect(guesses.filter((g) => g.status === 429)).toHaveLength(9);
    // Successes give their slot back: four sign-ins in a row from one address, then still three guesses.
    const user = await createUser(ds);
    for (let i = 0; i < 4; i++) expect((await attempt('198.51.100.92', user.email, PASSWORD)).status).toBe(200);
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await attempt('198.51.100.92', user.email, 'wrong')).status);
    expect(after).toEqual([401, 401, 401, 429]);
  });

  it('the per-address sign-in cap counts failures of every API process together', async () => {
    const [one, two] = [app({ limits: { loginPerIp: 3 } }), app({ limits: { loginPerIp: 3 } })];
    const attempt = (a: ReturnType<typeof app>, i: number) =>
      request(a.callback())
        .post('/api/auth/login')
        .set('X-Forwarded-For', '198.51.100.77')
        .set('X-Tenantflow-Console', CONSOLE_SECRET)
        .send({ email: `guess-${i}@example.test`, password: 'wrong' });
    expect((await attempt(one, 1)).status).toBe(401);
    expect((await attempt(two, 2)).status).toBe(401);
    expect((await attempt(one, 3)).status).toBe(401);
    const blocked = await attempt(two, 4);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
  });
});
