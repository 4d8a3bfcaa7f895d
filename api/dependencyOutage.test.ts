// A dependency that is down answers 503 dependency_unavailable on every
// route, never a 500 and never a hang: PostgreSQL paused (SIGSTOP: sockets
// open, nothing answered) and Temporal paused or stopped. The suite starts
// its own PostgreSQL and Temporal dev server — the run's shared ones serve
// every other suite — with the API's bounds scaled down to keep it short.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { createDataSource } from '../db/dataSource';
import { type User } from '../db/entities';
import { apiTemporalConnection } from '../lib/temporalConnection';
import { freePort } from '../scripts/lib/net';
import { Supervisor, type ManagedProcess } from '../scripts/lib/processes';
import { startTemporalDevServer } from '../scripts/lib/temporalServer';
import { findTemporalCli } from '../scripts/lib/tools';
import { signIn, testApp, type Agent } from '../test/helpers/api';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { type OwnPostgres, signalTree, startOwnPostgres, until } from '../test/helpers/processes';
import { routeSpecsOf } from './app';
import { CTA_PATH } from './middleware/publishableKey';
import { type RouteSpec } from './routing';
import { newId } from '../db/ids';

/** The API's bounds (API_DATABASE_DEADLINES, API_TEMPORAL_CALL_DEADLINE_MS), scaled down. */
const DEADLINES = { connectMs: 1_000, statementMs: 1_500 };
const TEMPORAL_CALL_MS = 1_500;
/** What every answer must come within: the longest bound (a statement and the client's margin) and room for a loaded machine. */
const ANSWER_WITHIN_MS = 8_000;
/** A 503 names its cause: the dependency, or a provider this deployment has not configured (here: Stripe, the e-mail provider's admin API). */
const OTHER_503 = new Set(['dependency_unavailable', 'billing_not_configured', 'provider_not_configured']);

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-outage-'));
const supervisor = new Supervisor();
let pg: OwnPostgres;
let temporal: ManagedProcess;
let ds: DataSource;
let client: Client;
let t: TenantFixture;
let owner: User;
let admin: User;
const app = () => testApp(ds, { client });

beforeAll(async () => {
  pg = await startOwnPostgres(workDir);
  const cli = findTemporalCli();
  if (!cli) throw new Error('the Temporal CLI is missing: run `npm run setup`');
  const port = await freePort();
  temporal = await startTemporalDevServer(supervisor, { cliPath: cli.path, port, namespace: 'default', logFile: path.join(workDir, 'temporal.log') });
  ds = createDataSource({ url: pg.appUrl, applicationName: 'tenantflow-outage-test', poolSize: 4, deadlines: DEADLINES });
  await ds.initialize();
  client = new Client({ connection: apiTemporalConnection({ address: `127.0.0.1:${port}`, callDeadlineMs: TEMPORAL_CALL_MS }) });
  t = await createTenant(ds, { name: 'Outage', customers: 1 });
  owner = await createUser(ds);
  admin = await createUser(ds, { platformAdmin: true });
  await addMember(ds, t, owner, 'owner');
}, 240_000);

afterAll(async () => {
  // Resumed first, so a failed test never leaves a stopped server behind.
  if (pg) signalTree(pg.pid(), 'SIGCONT');
  if (temporal?.child.pid) signalTree(temporal.child.pid, 'SIGCONT');
  await client?.connection.close().catch(() => undefined);
  if (ds?.isInitialized) await ds.destroy().catch(() => undefined);
  await supervisor.stopAll();
  await pg?.stop();
  fs.rmSync(workDir, { recursive: true, force: true });
}, 60_000);

async function timed(call: PromiseLike<request.Response>): Promise<request.Response & { ms: number }> {
  const started = Date.now();
  const res = await call;
  return Object.assign(res, { ms: Date.now() - started });
}

/** One call of every declared route (well-formed ids that name nothing, `{}` bodies), by the caller it declares. */
function callEveryRoute(agents: { session: Agent; platform: Agent }) {
  // Signing out would end the session the other calls use.
  const specs = [...new Map(routeSpecsOf(app()).map((r) => [`${r.method} ${r.path}`, r])).values()].filter((r) => r.path !== '/api/auth/logout');
  const pathOf = (r: RouteSpec) =>
    r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
      const p = r.params?.[name]?.prefix;
      if (name === 'workflowId') return encodeURIComponent(`tenant/${t.tenant.id}/provision`);
      if (name === 'customerId') return t.customers[0]!.id;
      return p === 'uuid' ? t.tenant.id : p === 'name' ? 'legacy-tenant-id' : p ? newId(p) : 'smartlead';
    });
  return Promise.all(
    specs.map(async (r) => {
      const agent = r.auth === 'platform' ? agents.platform : agents.session;
      // The website-event route takes a publishable key, not the session (a website's request carries no cookie of ours); a well-formed one is looked up in the database.
      const call =
        r.path === CTA_PATH
          ? request(app().callback())
              .post(CTA_PATH)
              .set('X-Publishable-Key', `pk_${t.tenant.id.replace(/-/g, '')}_${'A'.repeat(43)}`)
              .set('Origin', 'https://www.example.com')
          : (agent as unknown as Record<string, (p: string) => request.Test>)[r.method]!(pathOf(r)).set('X-Customer-Id', t.customers[0]!.id);
      const res = await timed(r.method === 'get' ? call : call.send({}));
      return { route: `${r.method} ${r.path}`, status: res.status, code: res.body?.error?.code as string | undefined, ms: res.ms };
    }),
  );
}

describe('PostgreSQL paused (SIGSTOP)', () => {
  it('every route answers 503 dependency_unavailable within the bound, nothing is written, and the API recovers on SIGCONT', async () => {
    const session = await signIn(app(), owner.email);
    const platform = await signIn(app(), admin.email);
    expect((await session.get('/api/customers')).status).toBe(200);
    const pid = pg.pid();
    signalTree(pid, 'SIGSTOP');
    try {
      const direct = [
        await timed(session.get('/api/customers')),
        await timed(session.post('/api/customers').send({ name: 'Written while paused' })),
        await timed(request(app().callback()).post('/api/auth/login').send({ email: owner.email, password: 'whatever it is' })),
      ];
      for (const res of direct) {
        expect([res.status, res.body.error?.code]).toEqual([503, 'dependency_unavailable']);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
      }
      const all = await callEveryRoute({ session, platform });
      expect(all.length).toBeGreaterThan(90);
      // Nothing is a 500, nothing waits past the bound; what answers 503 says why.
      expect(all.filter((r) => r.status === 500 || r.ms >= ANSWER_WITHIN_MS)).toEqual([]);
      expect(all.filter((r) => r.status === 503 && !OTHER_503.has(r.code!))).toEqual([]);
      // A session is looked up in the database, so with one every route answers 503;
      expect(all.filter((r) => r.status !== 503)).toEqual([]);
      // without one, what needs no database still answers.
      expect((await request(app().callback()).get('/api/openapi.json')).status).toBe(200);
    } finally {
      signalTree(pid, 'SIGCONT');
    }
    await until('the API answers again', async () => (await session.get('/api/customers')).status === 200, 30_000, 250);
    expect((await session.get('/api/customers')).body.data.map((c: { name: string }) => c.name)).not.toContain('Written while paused');
  });
});

describe('Temporal paused, then stopped', () => {
  const describeProvisioning = (agent: Agent) => agent.get(`/api/workflows/${encodeURIComponent(`tenant/${t.tenant.id}/provision`)}`);
  const register = (slug: string) =>
    request(app().callback())
      .post('/api/tenants/register')
      .send({ name: 'Registered while down', slug, externalCustomerId: slug, industry: 'agency', owner: { email: `${slug}@example.test`, name: 'N' } });

  it('routes that call Temporal answer 503 within the bound; the others answer as usual; nothing is a 500', async () => {
    const session = await signIn(app(), owner.email);
    const platform = await signIn(app(), admin.email);
    expect((await describeProvisioning(session)).status).toBe(404); // no such workflow: Temporal answers
    const pid = temporal.child.pid!;

    signalTree(pid, 'SIGSTOP');
    try {
      const paused = [await timed(describeProvisioning(session)), await timed(register('paused-co'))];
      expect(paused.map((r) => [r.status, r.body.error?.code])).toEqual(Array(2).fill([503, 'dependency_unavailable']));
      for (const r of paused) expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
      expect((await session.get('/api/customers')).status).toBe(200);
    } finally {
      signalTree(pid, 'SIGCONT');
    }
    await until('Temporal answers again', async () => (await describeProvisioning(session)).status === 404, 30_000, 250);

    await supervisor.stopAll();
    const stopped = [await timed(describeProvisioning(session)), await timed(register('stopped-co'))];
    expect(stopped.map((r) => [r.status, r.body.error?.code])).toEqual(Array(2).fill([503, 'dependency_unavailable']));
    for (const r of stopped) expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
    const all = await callEveryRoute({ session, platform });
    expect(all.filter((r) => r.status === 500 || r.ms >= ANSWER_WITHIN_MS)).toEqual([]);
    expect(all.filter((r) => r.status === 503 && !OTHER_503.has(r.code!))).toEqual([]);
    expect(all.find((r) => r.route === 'get /api/customers')?.status).toBe(200);
  });
});
