// The onboarding checklist ticks when its event happens, whoever writes the
// row: a customer, an inbox, a sequence, an invitation.
import { type DataSource } from 'typeorm';
import { insertInvite } from '../db/invites';
import { withTenant } from '../db/tenantContext';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { createSmtpInbox } from '../test/helpers/outreach';

const suite = useSuiteDatabase('onboarding');
let ds: DataSource;
let a: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 0 });
  const items = ['add_customer', 'connect_inbox', 'write_sequence', 'invite_team', 'connect_stripe'];
  await withTenant(ds, a.tenant.id, async (m) => {
    for (const [position, key] of items.entries()) {
      await m.query('INSERT INTO onboarding_items (tenant_id, key, title, position) VALUES ($1, $2, $3, $4)', [a.tenant.id, key, key, position]);
    }
  });
  [owner] = await signedInMembers(ds, testApp(ds), a, ['owner']);
});

const done = async () => {
  const res = await owner.get('/api/onboarding');
  expect(res.status).toBe(200);
  return (res.body.checklist as { key: string; done: boolean }[]).filter((i) => i.done).map((i) => i.key);
};

it('ticks each item as it happens, and only that item', async () => {
  expect(await done()).toEqual([]);
  const customer = await owner.post('/api/customers').send({ name: 'First client' });
  expect(customer.status).toBe(201);
  expect(await done()).toEqual(['add_customer']);
  await createSmtpInbox(owner, customer.body.id, 2525);
  expect(await done()).toEqual(['add_customer', 'connect_inbox']);
  expect((await owner.post('/api/sequences').set('X-Customer-Id', customer.body.id).send({ name: 'Intro' })).status).toBe(201);
  expect(await done()).toEqual(['add_customer', 'connect_inbox', 'write_sequence']);
  const roles = await owner.get('/api/roles');
  const viewer = (roles.body.data as { id: string; key: string | null }[]).find((r) => r.key === 'viewer')!;
  expect((await owner.post('/api/members').send({ email: 'teammate@example.test', name: 'Tea Mate', roleId: viewer.id })).status).toBe(202);
  expect(await done()).toEqual(['add_customer', 'connect_inbox', 'write_sequence', 'invite_team']);
  // A second customer changes nothing: the tick stays, with its first time.
  expect((await owner.post('/api/customers').send({ name: 'Second client' })).status).toBe(201);
  expect(await done()).toEqual(['add_customer', 'connect_inbox', 'write_sequence', 'invite_team']);
});

it('does not tick "invite your team" for the owner\'s own invitation; a member\'s invitation or a second member does', async () => {
  const b = await createTenant(ds, { customers: 0 });
  const owner = await createUser(ds);
  await withTenant(ds, b.tenant.id, (m) =>
    m.query("INSERT INTO onboarding_items (tenant_id, key, title, position) VALUES ($1, 'invite_team', 'Invite your team', 0)", [b.tenant.id]),
  );
  const inviteTeamDone = () =>
    withTenant(
      ds,
      b.tenant.id,
      async (m) => ((await m.query("SELECT done_at FROM onboarding_items WHERE key = 'invite_team'")) as { done_at: Date | null }[])[0]!.done_at !== null,
    );
  // Provisioning invites the owner (and may send a verification link): nobody has invited a team yet.
  await withTenant(ds, b.tenant.id, (m) => insertInvite(m, { tenantId: b.tenant.id, userId: owner.id, roleId: b.roles.owner! }));
  await withTenant(ds, b.tenant.id, (m) => insertInvite(m, { tenantId: b.tenant.id, userId: owner.id }));
  await addMember(ds, b, owner, 'owner');
  expect(await inviteTeamDone()).toBe(false);
  // A second member joins (an invitation sent with an API token names no inviter).
  await addMember(ds, b, await createUser(ds), 'viewer');
  expect(await inviteTeamDone()).toBe(true);
});

it("answers the tenant's template defaults for new campaigns and inboxes, in the API's terms", async () => {
  const settings = async () => ((await owner.get('/api/onboarding')).body as { settings: unknown }).settings;
  const set = (value: unknown) => ds.query('UPDATE tenants SET settings = $2::jsonb WHERE id = $1', [a.tenant.id, JSON.stringify(value)]);
  await set({
    timezone: 'America/Chicago',
    sendWindow: { start: '08:00', end: '18:00', days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
    defaultDailyCap: 25,
  });
  expect(await settings()).toEqual({
    timezone: 'America/Chicago',
    sendWindow: { start: '08:00', end: '18:00', days: [1, 2, 3, 4, 5, 6] },
    defaultDailyCap: 25,
  });
  // Without a template, or with values a form could not take, there is no default.
  await set({});
  expect(await settings()).toEqual({ timezone: null, sendWindow: null, defaultDailyCap: null });
  await set({ timezone: 'Mars/Olympus', sendWindow: { start: '18:00', end: '08:00', days: ['mon'] }, defaultDailyCap: 0 });
  expect(await settings()).toEqual({ timezone: null, sendWindow: null, defaultDailyCap: null });
});
