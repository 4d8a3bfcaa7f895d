// Worker crash during provisioning: the worker (a real process, started as
// production starts it) is killed with SIGKILL after step 2, while step 3 is
// in flight. A new worker finishes the provisioning, and no step's rows exist
// twice.
//
// To kill it at that exact point without test hooks in product code, the test
// holds an uncommitted insert of the owner's e-mail: step 3's own insert waits
// on that row lock, so the worker is caught mid-step.
import { type ChildProcess } from 'node:child_process';
import { Connection, Client } from '@temporalio/client';
import { type Client as PgClient } from 'pg';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { industryTemplate } from '../lib/industryTemplates';
import { connect, createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createUser } from '../test/helpers/fixtures';
import { signIn, testApp } from '../test/helpers/api';
import { temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { startWorkerProcess, until } from '../test/helpers/processes';

jest.setTimeout(180_000);

let db: TestDatabase;
let ds: DataSource;
let apiTemporal: Connection;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase('crash');
  ds = await openDataSource(db.appUrl, 'tenantflow-crash-test');
  apiTemporal = await Connection.connect({ address: temporalAddress() });
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  await apiTemporal?.close();
  await ds?.destroy();
  await db?.drop();
});

const inTenant = (tenantId: string, sql: string) => withTenant(ds, tenantId, (m) => m.query(sql) as Promise<Record<string, unknown>[]>);

it('a worker killed after step 2 is replaced and provisioning completes with no duplicate rows', async () => {
  const taskQueue = uniqueTaskQueue('crash');
  const api = testApp(ds, { client: new Client({ connection: apiTemporal }), taskQueue });
  const admin = await signIn(api, (await createUser(ds, { platformAdmin: true })).email);
  const ownerEmail = `crash-owner-${Date.now()}@example.test`;

  // Hold the owner's e-mail in an open transaction: step 3 will wait on it.
  const blocker: PgClient = await connect(db.appUrl);
  await blocker.query('BEGIN');
  await blocker.query('INSERT INTO users (id, email, name) VALUES ($1, $2, $3)', [newId('usr'), ownerEmail, 'lock holder']);

  const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  const res = await admin.post('/api/tenants').send({
    name: 'Crash Test Agency',
    slug: `crash-${Date.now().toString(36)}`,
    externalCustomerId: `crash-${Date.now()}`,
    industry: 'agency',
    owner: { email: ownerEmail, name: 'Crash Owner', password: 'owner password 123' },
  });
  expect(res.status).toBe(202);
  const tenantId = res.body.tenant.id as string;

  // Step 2 is done and step 3 is waiting on the lock, inside the worker.
  await until('step 2 to complete', async () => {
    const [row] = (await ds.query("SELECT (provisioning->>'stepsDone')::int AS done FROM tenants WHERE id = $1", [tenantId])) as { done: number | null }[];
    return (row?.done ?? 0) >= 2 ? true : undefined;
  });
  await until('step 3 to wait on the lock', async () => {
    const waiting = (await ds.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = 'tenantflow-worker' AND wait_event_type = 'Lock'",
      [db.name],
    )) as unknown[];
    return waiting.length ? true : undefined;
  });

  first.kill('SIGKILL');
  await new Promise((r) => first.once('exit', r));
  await blocker.query('ROLLBACK');
  await blocker.end();
  const [midway] = (await ds.query("SELECT status, (provisioning->>'stepsDone')::int AS done FROM tenants WHERE id = $1", [tenantId])) as {
    status: string;
    done: number;
  }[];
  expect(midway).toEqual({ status: 'provisioning', done: 2 });
  // No worker can answer a query now: the API answers from the stored progress.
  const stored = await admin.get(`/api/tenants/${tenantId}/provisioning`);
  expect(stored.status).toBe(200);
  expect(stored.body).toMatchObject({ source: 'database', status: 'running', step: 'create_owner', stepsDone: 2, stepsTotal: 6, tenantStatus: 'provisioning' });

  // A new worker picks the workflow up (after step 3's attempt times out) and finishes it.
  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue }, workers);
  // With a worker alive again, the API answers from the workflow's progress query.
  const live = await until('a live progress answer', async () => {
    const res = await admin.get(`/api/tenants/${tenantId}/provisioning`);
    return res.body.source === 'workflow' ? (res.body as Record<string, unknown>) : undefined;
  });
  expect(live).toMatchObject({ status: 'running', step: 'create_owner', stepsDone: 2 });
  await until(
    'provisioning to complete',
    async () => {
      const [row] = (await ds.query('SELECT status FROM tenants WHERE id = $1', [tenantId])) as { status: string }[];
      return row?.status === 'active' ? true : undefined;
    },
    120_000,
  );

  const template = industryTemplate('agency')!;
  const counts = async (sql: string) => Number((await inTenant(tenantId, sql))[0]!.n);
  expect(await counts('SELECT count(*)::int AS n FROM roles')).toBe(template.roles.length);
  expect(await counts('SELECT count(*)::int AS n FROM role_permissions')).toBe(template.roles.reduce((sum, r) => sum + r.permissions.length, 0));
  expect(await counts('SELECT count(*)::int AS n FROM onboarding_items')).toBe(template.onboardingChecklist.length);
  expect(await counts('SELECT count(*)::int AS n FROM memberships')).toBe(1);
  // The template's entitlements once each (the billing workflow then adds its plan's limits beside them).
  const templateKeys = template.entitlements.map((e) => `'${e.key}'`).join(', ');
  expect(await counts(`SELECT count(*)::int AS n FROM entitlements WHERE key IN (${templateKeys})`)).toBe(template.entitlements.length);
  expect(await ds.query('SELECT count(*)::int AS n FROM users WHERE email = $1', [ownerEmail])).toEqual([{ n: 1 }]);
  await signIn(api, ownerEmail, 'owner password 123');
});
