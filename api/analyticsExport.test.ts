// The analytics export against the real database and the project's worker
// (docs/analytics.md, "Export"): 1,000,000 events stream out as CSV with the
// API process's memory growing no more than for 100,000 (plus a stated
// margin); a formula in a cell is defused; a day across a DST change in
// America/New_York has the right bounds and local times; another
// customer's events never appear; ranges past the limits are refused with a
// pointer to the workflow export, which completes with its progress and a
// signed link that expires; incremental pulls page by seq.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parse } from 'csv-parse/sync';
import type Koa from 'koa';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { type AppState } from './state';
import { withTenant } from '../db/tenantContext';
import { newId } from '../db/ids';
import { EXPORT_COLUMNS } from '../lib/analyticsExport';
import { testApp, type Agent } from '../test/helpers/api';
import { startApiProcess } from '../test/helpers/apiProcess';
import { openDataSource } from '../test/helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../test/helpers/fixtures';
import { until } from '../test/helpers/outreach';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';

jest.setTimeout(300_000);

/** The API process's heap cap in the memory test, and what its RSS may grow beyond the 100,000-event export's. */
const HEAP_MIB = 160;
const MARGIN_MIB = 48;

const suite = useSuiteDatabase('analytics_export');
let ds: DataSource;
let owner: DataSource;
let connection: Connection;
let app: Koa<AppState>;
let worker: { stop(): Promise<void> };
const exportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-exports-'));

beforeAll(async () => {
  ds = suite.ds;
  owner = await openDataSource(suite.db.ownerUrl, 'tenantflow-export-owner');
  connection = await Connection.connect({ address: temporalAddress() });
  const taskQueue = uniqueTaskQueue('export');
  app = testApp(ds, { client: new Client({ connection }), taskQueue, exportDir, exportChunkRows: 4 });
  worker = await startProjectWorker({ taskQueue, dataSource: ds, exportDir });
});

afterAll(async () => {
  await worker?.stop();
  await connection?.close();
  await owner?.destroy();
  fs.rmSync(exportDir, { recursive: true, force: true });
});

interface Ev {
  type?: string;
  at: string;
  customer: string;
  surface?: string;
  properties?: object;
  campaign?: string;
  receivedAgo?: string;
}

/** Events written in the tenant's context as the owner role (fixtures, as a backfill would). */
async function seed(t: TenantFixture, events: Ev[]): Promise<void> {
  await withTenant(owner, t.tenant.id, async (m) => {
    for (const e of events) {
      await m.query(
        `INSERT INTO analytics_events (tenant_id, type, occurred_at, received_at, customer_id, campaign_id, surface, properties, dedupe_key)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, now() - $3::interval, $4, $5, $6, $7, $8)`,
        [
          e.type ?? 'cta.click',
          e.at,
          e.receivedAgo ?? '0',
          e.customer,
          e.campaign ?? null,
          e.surface ?? null,
          JSON.stringify(e.properties ?? {}),
          newId('evt'),
        ],
      );
    }
  });
}

async function tenantWithOwner(customers = 2): Promise<{ t: TenantFixture; agent: Agent; c0: string; c1: string }> {
  const t = await createTenant(ds, { customers });
  const [agent] = await signedInMembers(ds, app, t, ['owner']);
  return { t, agent: agent!, c0: t.customers[0]!.id, c1: t.customers[1]?.id ?? '' };
}

const csvRows = (text: string) => parse(text) as string[][];

describe('the streamed export', () => {
  it('streams 1,000,000 events as CSV in the memory of 100,000 (+48 MiB), and refuses one more', async () => {
    const t = await createTenant(ds, { customers: 1 });
    const user = await createUser(ds);
    await addMember(ds, t, user, 'owner');
    const customer = t.customers[0]!.id;
    // Narrow rows, one every 2 seconds from 2024-01-01: the millionth is on 2024-01-24.
    const seeding = Date.now();
    await withTenant(owner, t.tenant.id, async (m) => {
      await m.query("SELECT set_config('statement_timeout', '0', true)");
      await m.query(
        `INSERT INTO analytics_events (tenant_id, id, type, occurred_at, customer_id, dedupe_key)
         SELECT current_setting('app.tenant_id')::uuid, 'aev_' || lpad(g::text, 26, '0'), 'message.sent',
                timestamptz '2024-01-01T00:00:00Z' + g * interval '2 seconds', $1, 'bulk:' || g
           FROM generate_series(1, 1000000) g`,
        [customer],
      );
    });
    console.log(`seeded 1,000,000 events in ${Date.now() - seeding} ms`);
    await owner.query('ANALYZE analytics_events');
    const login = await request(app.callback()).post('/api/auth/login').send({ email: user.email, password: PASSWORD });
    const cookie = (login.headers['set-cookie'] as unknown as string[]).map((c) => c.split(';')[0]).join('; ');
    // The API in a process of its own, so its memory is measured apart from the suite's; its heap is capped
    // as a deployment's would be, so V8 collects garbage rather than letting it pile up.
    const child = await startApiProcess(suite.db.appUrl, [`--max-old-space-size=${HEAP_MIB}`]);
    const port = Number(new URL(child.url).port);
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;

    /** Reads the export as a client would (nothing kept), sampling the API process's RSS meanwhile. */
    const streamed = (query: string) =>
      new Promise<{ status: number; lines: number; growth: number; ms: number }>((resolve, reject) => {
        const before = rss();
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, rss())), 10);
        const started = Date.now();
        const req = http.get({ host: '127.0.0.1', port, path: `/api/analytics/export?${query}`, headers: { cookie, 'x-customer-id': customer } }, (res) => {
          let lines = 0;
          res.on('data', (chunk: Buffer) => {
            for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
          });
          res.on('end', () => {
            clearInterval(sampler);
            resolve({ status: res.statusCode!, lines, growth: peak - before, ms: Date.now() - started });
          });
          res.on('error', reject);
        });
        req.setTimeout(240_000, () => req.destroy(new Error('export timed out')));
        req.on('error', reject);
      });
    try {
      // Warm up the path (JIT, pools) before measuring.
      expect((await streamed('from=2024-01-01&to=2024-01-01T05:00:00Z')).lines).toBe(8999 + 1);
      const small = await streamed('from=2024-01-01&to=2024-01-03T07:33:20.5Z');
      expect(small).toMatchObject({ status: 200, lines: 100_000 + 1 });
      const large = await streamed('from=2024-01-01&to=2024-01-31');
      expect(large).toMatchObject({ status: 200, lines: 1_000_000 + 1 });
      const MiB = 1024 * 1024;
      console.log(
        `export RSS growth: 100k ${(small.growth / MiB).toFixed(1)} MiB in ${small.ms} ms, 1M ${(large.growth / MiB).toFixed(1)} MiB in ${large.ms} ms`,
      );
      expect(large.growth).toBeLessThanOrEqual(small.growth + MARGIN_MIB * MiB);

      await seed(t, [{ type: 'message.sent', at: '2024-01-30T00:00:00Z', customer }]);
      const refused = await request(`http://127.0.0.1:${port}`)
        .get('/api/analytics/export?from=2024-01-01&to=2024-01-31')
        .set('Cookie', cookie)
        .set('X-Customer-Id', customer);
      expect(refused.status).toBe(422);
      expect(refused.body.error).toMatchObject({ code: 'export_too_large', details: { use: 'POST /api/analytics/exports', maxRows: 1_000_000 } });
    } finally {
      child.stop();
    }
  });

  it('defuses spreadsheet formulas in every cell and keeps the documented columns', async () => {
    const { t, agent, c0 } = await tenantWithOwner();
    await seed(t, [
      { at: '2024-05-01T10:00:00Z', customer: c0, surface: '=HYPERLINK("http://evil.example","click")', properties: { label: '=1+1' } },
      { at: '2024-05-01T11:00:00Z', customer: c0, surface: '+cmd', properties: {} },
      { at: '2024-05-01T12:00:00Z', customer: c0, surface: '-2', properties: {} },
      { at: '2024-05-01T13:00:00Z', customer: c0, surface: '@sum', properties: {} },
    ]);
    const res = await agent.get('/api/analytics/export?from=2024-05-01&to=2024-05-02').set('X-Customer-Id', c0).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const [header, ...rows] = csvRows(res.text);
    expect(header).toEqual([...EXPORT_COLUMNS]);
    const surface = EXPORT_COLUMNS.indexOf('surface');
    expect(rows.map((r) => r[surface])).toEqual([`'=HYPERLINK("http://evil.example","click")`, "'+cmd", "'-2", "'@sum"]);
    expect(JSON.parse(rows[0]![EXPORT_COLUMNS.indexOf('properties')]!)).toEqual({ label: '=1+1' });
    for (const r of rows) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('reads a day across the DST change in America/New_York in local time, with its offsets', async () => {
    const { t, agent, c0 } = await tenantWithOwner();
    // 2024-03-10 in New York runs from 05:00Z to 04:00Z the next day (23 hours): clocks jump 02:00 → 03:00 EDT.
    const instants = [
      '2024-03-10T04:59:59Z',
      '2024-03-10T05:00:00Z',
      '2024-03-10T06:59:00Z',
      '2024-03-10T07:00:00Z',
      '2024-03-11T03:59:00Z',
      '2024-03-11T04:00:00Z',
    ];
    await seed(
      t,
      instants.map((at) => ({ at, customer: c0 })),
    );
    const res = await agent.get('/api/analytics/export?from=2024-03-10&to=2024-03-11&tz=America/New_York').set('X-Customer-Id', c0).buffer(true);
    expect(res.status).toBe(200);
    const at = EXPORT_COLUMNS.indexOf('occurred_at');
    expect(
      csvRows(res.text)
        .slice(1)
        .map((r) => r[at]),
    ).toEqual(['2024-03-10T00:00:00.000-05:00', '2024-03-10T01:59:00.000-05:00', '2024-03-10T03:00:00.000-04:00', '2024-03-10T23:59:00.000-04:00']);
    // The next day starts at local midnight, 04:00Z; NDJSON carries the same text.
    const next = await agent.get('/api/analytics/export?from=2024-03-11&to=2024-03-12&tz=America/New_York&format=ndjson').set('X-Customer-Id', c0).buffer(true);
    expect(next.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = next.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.occurred_at)).toEqual(['2024-03-11T00:00:00.000-04:00']);
    expect(Object.keys(lines[0]!)).toEqual([...EXPORT_COLUMNS]);
    // UTC is the default zone.
    const utc = await agent.get('/api/analytics/export?from=2024-03-10&to=2024-03-11').set('X-Customer-Id', c0).buffer(true);
    expect(
      csvRows(utc.text)
        .slice(1)
        .map((r) => r[at]),
    ).toEqual(['2024-03-10T04:59:59.000+00:00', '2024-03-10T05:00:00.000+00:00', '2024-03-10T06:59:00.000+00:00', '2024-03-10T07:00:00.000+00:00']);
  });

  it('never shows another customer’s events, and refuses what it cannot stream or does not understand', async () => {
    const { t, agent, c0, c1 } = await tenantWithOwner();
    await seed(t, [
      { at: '2024-06-01T10:00:00Z', customer: c0, surface: 'mine' },
      { at: '2024-06-01T10:00:00Z', customer: c1, surface: 'theirs' },
    ]);
    const res = await agent.get('/api/analytics/export?from=2024-06-01&to=2024-06-02').set('X-Customer-Id', c0).buffer(true);
    expect(res.text).toContain('mine');
    expect(res.text).not.toContain('theirs');
    const filtered = await agent.get('/api/analytics/export?from=2024-06-01&to=2024-06-02&surface=nothing').set('X-Customer-Id', c0).buffer(true);
    expect(csvRows(filtered.text)).toHaveLength(1);
    const long = await agent.get('/api/analytics/export?from=2024-01-01&to=2024-02-02').set('X-Customer-Id', c0);
    expect(long.status).toBe(422);
    expect(long.body.error.details.use).toBe('POST /api/analytics/exports');
    for (const q of [
      'from=2024-06-02&to=2024-06-01',
      'from=2024-06-01&to=2024-06-02&tz=Mars/Olympus',
      'from=2024-13-01&to=2024-14-01',
      'to=2024-06-02',
      'from=2024-06-01&to=2024-06-02&types=nope',
    ]) {
      const bad = await agent.get(`/api/analytics/export?${q}`).set('X-Customer-Id', c0);
      expect([q, bad.status]).toEqual([q, 400]);
    }
    const other = await agent.get(`/api/analytics/export?from=2024-06-01&to=2024-06-02&campaignId=${newId('cmp')}`).set('X-Customer-Id', c0);
    expect(other.status).toBe(404);
  });
});

describe('the export workflow', () => {
  it('writes the file in chunks with progress; its signed link downloads until it expires', async () => {
    const { t, agent, c0, c1 } = await tenantWithOwner();
    await seed(t, [
      ...Array.from({ length: 10 }, (_, i) => ({ at: `2024-07-0${1 + (i % 5)}T1${i}:00:00Z`, customer: c0, surface: i === 3 ? '=HYPERLINK("x")' : `s${i}` })),
      { at: '2024-07-02T10:00:00Z', customer: c1, surface: 'theirs' },
    ]);
    const started = await agent.post('/api/analytics/exports').set('X-Customer-Id', c0).send({ from: '2024-07-01', to: '2024-08-15', tz: 'Europe/Berlin' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'running', rowsWritten: 0, download: null, filters: { tz: 'Europe/Berlin' } });
    const id = started.body.id as string;
    let done: Record<string, unknown> = {};
    await until('the export completes', async () => {
      done = (await agent.get(`/api/analytics/exports/${id}`).set('X-Customer-Id', c0)).body as Record<string, unknown>;
      return done.status === 'completed';
    });
    expect(done).toMatchObject({ rowsTotal: 10, rowsWritten: 10, progress: 1 });
    const link = (done.download as { url: string; expiresAt: string }).url;
    expect(Date.parse((done.download as { expiresAt: string }).expiresAt) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);

    // The link is its own credential: no session needed.
    const anonymous = request(app.callback());
    const file = await anonymous.get(link).buffer(true);
    expect(file.status).toBe(200);
    const streamed = await agent.get('/api/analytics/export?from=2024-07-01&to=2024-07-31&tz=Europe/Berlin').set('X-Customer-Id', c0).buffer(true);
    const rows = csvRows(file.text.toString());
    expect(rows).toHaveLength(11);
    expect(file.text.toString()).toBe(streamed.text);
    expect(file.text.toString()).not.toContain('theirs');
    expect(file.text.toString()).toContain(`"'=HYPERLINK(""x"")"`);

    // Tampering with any part of it is a 404.
    const tampered = [
      link.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`),
      link.replace(/expires=(\d+)/, (_m, e: string) => `expires=${Number(e) + 1}`),
    ];
    for (const url of tampered) expect((await anonymous.get(url)).status).toBe(404);

    // Past its life: the link answers 410 and the status offers no new one.
    await withTenant(owner, t.tenant.id, (m) => m.query("UPDATE analytics_exports SET completed_at = now() - interval '25 hours' WHERE id = $1", [id]));
    expect((await anonymous.get(link)).status).toBe(410);
    const expired = await agent.get(`/api/analytics/exports/${id}`).set('X-Customer-Id', c0);
    expect(expired.body).toMatchObject({ status: 'expired', download: null });
    // Another customer's export is the same 404 as none.
    expect((await agent.get(`/api/analytics/exports/${id}`).set('X-Customer-Id', c1)).status).toBe(404);
  });
});

describe('incremental pulls', () => {
  it('pages the customer’s settled events by seq and holds back the newest', async () => {
    const { t, agent, c0, c1 } = await tenantWithOwner();
    await seed(t, [
      ...Array.from({ length: 5 }, (_, i) => ({ at: `2024-08-01T0${i}:00:00Z`, customer: c0, surface: `p${i}`, receivedAgo: '5 minutes' })),
      { at: '2024-08-01T00:00:00Z', customer: c1, surface: 'theirs', receivedAgo: '5 minutes' },
      // Received "in a minute": past the pull's watermark, whenever the test runs.
      { at: '2024-08-01T09:00:00Z', customer: c0, surface: 'fresh', receivedAgo: '-1 minute' },
    ]);
    const seen: string[] = [];
    let after = '0';
    for (let page = 0; page < 5; page++) {
      const res = await agent.get(`/api/analytics/events?after=${after}&limit=2`).set('X-Customer-Id', c0);
      expect(res.status).toBe(200);
      const body = res.body as { data: { seq: string; surface: string }[]; next: string; more: boolean };
      seen.push(...body.data.map((e) => e.surface));
      if (body.data.length) expect(BigInt(body.next)).toBeGreaterThan(BigInt(after));
      else expect(body.next).toBe(after);
      after = body.next;
      if (!body.more) break;
    }
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    const bad = await agent.get('/api/analytics/events?after=-1').set('X-Customer-Id', c0);
    expect(bad.status).toBe(400);
  });

  it('serves nothing past an open transaction that wrote an event, and skips nothing once it commits', async () => {
    const { t, agent, c0 } = await tenantWithOwner();
    const pull = async (after: string) => {
      const res = await agent.get(`/api/analytics/events?after=${after}&limit=100`).set('X-Customer-Id', c0);
      expect(res.status).toBe(200);
      return res.body as { data: { seq: string; surface: string }[]; next: string };
    };
    const start = (await pull('0')).next;
    // A writer (the app role, as every writer is) takes its seq and stays open, as a webhook waiting on Temporal does.
    const open = ds.createQueryRunner();
    await open.connect();
    await open.startTransaction();
    try {
      await open.query("SELECT set_config('app.tenant_id', $1, true)", [t.tenant.id]);
      await open.query(
        `INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, surface, dedupe_key)
         VALUES (current_setting('app.tenant_id')::uuid, 'cta.click', now(), $1, 'slow', 'cta:slow')`,
        [c0],
      );
      // A later writer takes a higher seq and commits first.
      await withTenant(ds, t.tenant.id, (m) =>
        m.query(
          `INSERT INTO analytics_events (tenant_id, type, occurred_at, customer_id, surface, dedupe_key)
           VALUES (current_setting('app.tenant_id')::uuid, 'cta.click', now(), $1, 'quick', 'cta:quick')`,
          [c0],
        ),
      );
      await new Promise((r) => setTimeout(r, 2_500));
      const held = await pull(start);
      expect(held.data).toEqual([]);
      await open.commitTransaction();
    } finally {
      if (open.isTransactionActive) await open.rollbackTransaction();
      await open.release();
    }
    await new Promise((r) => setTimeout(r, 2_500));
    expect((await pull(start)).data.map((e) => e.surface)).toEqual(['slow', 'quick']);
  });
});
