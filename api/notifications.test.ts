// A member's notifications through the API: only their own, in the tenant
// they are working in, newest first with the unread count; marked read one
// by one or all at once; anyone else's answers exactly like one that does
// not exist.
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { insertNotifications } from '../db/notifications';
import { withTenant } from '../db/tenantContext';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { signIn, testApp, type Agent } from '../test/helpers/api';

let db: TestDatabase;
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let api: ReturnType<typeof testApp>;
let viewer: Agent;
let both: Agent;
const users = {} as Record<'viewer' | 'other' | 'both', string>;
let ownerEmail: string;

/** Notifications written as the notify action writes them, oldest first. */
async function notify(t: TenantFixture, userId: string, ...titles: string[]): Promise<void> {
  const runId = newId('arun');
  for (const [i, title] of titles.entries()) {
    await withTenant(ds, t.tenant.id, (m) =>
      insertNotifications(m, [{ userId, title, link: `/provider/automation-runs/${runId}`, runId, dedupeKey: `run:${runId}:${i}` }]),
    );
    // Ids order by their millisecond; within one, at random: the next notification is a millisecond newer.
    await new Promise((r) => setTimeout(r, 2));
  }
}

const list = async (agent: Agent, query = '') => {
  const res = await agent.get(`/api/notifications${query}`);
  expect(res.status).toBe(200);
  return res.body as { data: { id: string; title: string; readAt: string | null }[]; nextCursor: string | null; unread: number };
};

beforeAll(async () => {
  db = await createTestDatabase('notifications');
  ds = await openDataSource(db.appUrl, 'tenantflow-notifications');
  api = testApp(ds);
  a = await createTenant(ds, { customers: 1 });
  b = await createTenant(ds, { customers: 1 });
  const [v, o, x] = [await createUser(ds), await createUser(ds), await createUser(ds)];
  await addMember(ds, a, v, 'viewer');
  await addMember(ds, a, o, 'owner');
  await addMember(ds, a, x, 'member');
  await addMember(ds, b, x, 'owner');
  Object.assign(users, { viewer: v.id, other: o.id, both: x.id });
  ownerEmail = o.email;
  viewer = await signIn(api, v.email);
  both = await signIn(api, x.email);
  await notify(a, v.id, 'First', 'Second', 'Third');
  await notify(a, o.id, 'The owner’s');
  await notify(a, x.id, 'In A');
  await notify(b, x.id, 'In B');
});

afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

it('lists the caller’s own notifications, newest first, page by page, with the unread count', async () => {
  const first = await list(viewer, '?limit=2');
  expect(first.data.map((n) => n.title)).toEqual(['Third', 'Second']);
  expect(first.unread).toBe(3);
  const second = await list(viewer, `?limit=2&cursor=${first.nextCursor}`);
  expect(second.data.map((n) => n.title)).toEqual(['First']);
  expect(second.nextCursor).toBeNull();
  expect((await viewer.get('/api/notifications?limit=0')).status).toBe(400);
});

it('shows a member only the notifications of the tenant they are working in', async () => {
  // Signing in lands in the first tenant by name, which is either: start in A.
  expect((await both.post('/api/auth/switch-tenant').send({ tenantId: a.tenant.id })).status).toBe(200);
  expect((await list(both)).data.map((n) => n.title)).toEqual(['In A']);
  expect((await both.post('/api/auth/switch-tenant').send({ tenantId: b.tenant.id })).status).toBe(200);
  expect((await list(both)).data.map((n) => n.title)).toEqual(['In B']);
  expect((await both.post('/api/auth/switch-tenant').send({ tenantId: a.tenant.id })).status).toBe(200);
});

it('marks one read; another member’s, another tenant’s or a made-up one is the same 404 and stays unread', async () => {
  const [newest] = (await list(viewer)).data;
  const marked = await viewer.post(`/api/notifications/${newest!.id}/read`);
  expect(marked.status).toBe(200);
  expect(marked.body.readAt).not.toBeNull();
  expect((await list(viewer)).unread).toBe(2);

  const owners = await withTenant(ds, a.tenant.id, (m) => m.query('SELECT id FROM notifications WHERE user_id = $1', [users.other]));
  const inB = await withTenant(ds, b.tenant.id, (m) => m.query('SELECT id FROM notifications WHERE user_id = $1', [users.both]));
  const answers = [];
  for (const id of [owners[0].id, inB[0].id, newId('ntf')]) {
    const res = await viewer.post(`/api/notifications/${id}/read`);
    answers.push({ status: res.status, body: res.body });
  }
  expect(answers).toEqual([answers[2], answers[2], { status: 404, body: { error: { code: 'not_found', message: 'notification not found' } } }]);
  const stillUnread = await withTenant(ds, a.tenant.id, (m) => m.query('SELECT read_at FROM notifications WHERE id = $1', [owners[0].id]));
  expect(stillUnread[0].read_at).toBeNull();
});

it('marks all of the caller’s read, and nobody else’s', async () => {
  const res = await viewer.post('/api/notifications/read-all');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ marked: 2 });
  expect((await list(viewer)).unread).toBe(0);
  expect((await list(both)).unread).toBe(1);
});

it('gives an API token, which is no member, an empty list', async () => {
  const issued = await (await signIn(api, ownerEmail)).post('/api/tokens').send({ name: 'notifications' });
  expect(issued.status).toBe(201);
  const res = await request(api.callback()).get('/api/notifications').set('Authorization', `Bearer ${issued.body.token}`);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ data: [], nextCursor: null, unread: 0 });
});
