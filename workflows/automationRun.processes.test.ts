// Automation runs on real worker processes (started as production starts
// them, docs/automations.md): a webhook_call whose worker is killed
// mid-call is delivered again with the same webhook id; two workers share
// the tenant's actions per rolling 60 s (the limiter is in PostgreSQL, not in
// a process); a dry run calls no receiver.
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { type ChildProcess } from 'node:child_process';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring, seal } from '../lib/encryption';
import { automationSecretAad } from '../lib/secretScopes';
import { admitRuns, automationTenant, insertAutomation, queueRun, runState } from '../test/helpers/automations';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { startWorkerProcess } from '../test/helpers/processes';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { automationRunWorkflowId } from './automationRun.contract';

jest.setTimeout(300_000);

const KEY_ID = 'v1';
const KEYS = `${KEY_ID}:${generateKey()}`;
const keyring = parseKeyring(KEYS, KEY_ID);
const SECRET = `whsec_${Buffer.from('the process test signing secret!').toString('base64')}`;
const workerEnv = { TENANTFLOW_ENCRYPTION_KEYS: KEYS, TENANTFLOW_ENCRYPTION_KEY_ID: KEY_ID };

let db: TestDatabase;
let ds: DataSource;
let owner: DataSource;
let smtp: TestSmtpServer;
let temporal: Awaited<ReturnType<typeof connectClient>>;
const workers: ChildProcess[] = [];

interface Delivery {
  id: string;
  at: number;
}
const deliveries: Delivery[] = [];
let onRequest: ((req: http.IncomingMessage, res: http.ServerResponse) => void) | undefined;
let receiver: http.Server;
let receiverUrl: string;

beforeAll(async () => {
  db = await createTestDatabase('automation-run-processes');
  ds = await openDataSource(db.appUrl, 'tenantflow-automation-run-processes-test');
  owner = await openDataSource(db.ownerUrl, 'tenantflow-automation-run-processes-owner');
  smtp = await startSmtpServer();
  temporal = await connectClient();
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      deliveries.push({ id: String(req.headers['webhook-id']), at: Date.now() });
      if (onRequest) onRequest(req, res);
      else res.writeHead(200).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
  await temporal?.connection.close();
  await smtp?.stop();
  await owner?.destroy();
  await ds?.destroy();
  await db?.drop();
});

beforeEach(() => {
  deliveries.length = 0;
  onRequest = undefined;
});

/** The automation's signing secret, sealed as the API seals it. */
async function sealSecret(tenantId: string, automationId: string): Promise<void> {
  await withTenant(ds, tenantId, (m) =>
    m.query('UPDATE automations SET webhook_secret = $2::jsonb WHERE id = $1', [
      automationId,
      JSON.stringify(seal(keyring, SECRET, automationSecretAad(tenantId, automationId))),
    ]),
  );
}

it('delivers a webhook_call again with the same webhook id when its worker dies mid-call', async () => {
  const { client } = temporal;
  const taskQueue = uniqueTaskQueue('automation-webhook-kill');
  const s = await automationTenant(ds, client, taskQueue, smtp.port, 'hook-kill@lead.example');
  const automation = await insertAutomation(ds, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'webhook_call', url: receiverUrl }] });
  await sealSecret(s.tenantId, automation);
  const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer });

  const first = startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue, env: workerEnv }, workers);
  const killed = new Promise<void>((resolve) => {
    // The first delivery arrives; its worker dies before the answer.
    onRequest = (_req, res) => {
      onRequest = undefined;
      first.kill('SIGKILL');
      first.once('exit', () => {
        res.destroy();
        resolve();
      });
    };
  });
  await admitRuns(ds, client, taskQueue, s.tenantId);
  await killed;
  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue, env: workerEnv }, workers);
  const handle = client.workflow.getHandle(automationRunWorkflowId({ tenantId: s.tenantId, automationId: automation, runId }));
  expect(await handle.result()).toEqual({ status: 'completed' });

  expect(deliveries.length).toBeGreaterThanOrEqual(2);
  expect(new Set(deliveries.map((d) => d.id))).toEqual(new Set([`${runId}:0`]));
  const run = await runState(ds, s.tenantId, runId);
  expect(run.steps).toEqual([expect.objectContaining({ path: '0', status: 'completed' })]);
});

it('holds the tenant to its actions per rolling 60 s across two worker processes', async () => {
  const { client } = temporal;
  const taskQueue = uniqueTaskQueue('automation-actions-two-workers');
  const s = await automationTenant(ds, client, taskQueue, smtp.port, 'limit-0@lead.example');
  const LIMIT = 10;
  const RUNS = 15;
  await owner.query('UPDATE tenants SET automation_actions_per_minute = $2 WHERE id = $1', [s.tenantId, LIMIT]);
  const automation = await insertAutomation(ds, s.tenantId, { trigger: { type: 'manual' }, steps: [{ type: 'add_tag', tag: 'limited' }] });
  const leads = [s.lead];
  for (let i = 1; i < RUNS; i++) {
    const [row] = (await withTenant(ds, s.tenantId, (m) =>
      m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api') RETURNING id", [
        newId('lead'),
        s.customer,
        `limit-${i}@lead.example`,
      ]),
    )) as { id: string }[];
    leads.push(row!.id);
  }
  const runIds: string[] = [];
  for (const lead of leads) runIds.push(await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: lead, customerId: s.customer }));
  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue, env: workerEnv }, workers);
  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue, env: workerEnv }, workers);
  await admitRuns(ds, client, taskQueue, s.tenantId, RUNS);
  for (const runId of runIds) {
    await expect(client.workflow.getHandle(automationRunWorkflowId({ tenantId: s.tenantId, automationId: automation, runId })).result()).resolves.toEqual({
      status: 'completed',
    });
  }

  // When each tag was added: its lead.tagged event is written by the statement that adds it.
  const times = (
    (await withTenant(ds, s.tenantId, (m) =>
      m.query("SELECT occurred_at FROM analytics_events WHERE type = 'lead.tagged' AND automation_id = $1 ORDER BY occurred_at", [automation]),
    )) as { occurred_at: Date }[]
  ).map((r) => r.occurred_at.getTime());
  expect(times).toHaveLength(RUNS);
  for (let i = 0; i + LIMIT < times.length; i++) expect(times[i + LIMIT]! - times[i]!).toBeGreaterThanOrEqual(60_000);

  // Both processes did some of the work: the runs' activity tasks name two worker identities.
  const identities = new Set<string>();
  for (const runId of runIds) {
    const history = await client.workflow.getHandle(automationRunWorkflowId({ tenantId: s.tenantId, automationId: automation, runId })).fetchHistory();
    for (const e of history.events ?? []) if (e.activityTaskStartedEventAttributes?.identity) identities.add(e.activityTaskStartedEventAttributes.identity);
  }
  expect(identities.size).toBe(2);
});

it('calls no receiver in a dry run, on the real activities', async () => {
  const { client } = temporal;
  const taskQueue = uniqueTaskQueue('automation-dry-run-receiver');
  const s = await automationTenant(ds, client, taskQueue, smtp.port, 'dry-receiver@lead.example');
  const automation = await insertAutomation(ds, s.tenantId, {
    trigger: { type: 'manual' },
    steps: [
      { type: 'webhook_call', url: receiverUrl },
      { type: 'add_tag', tag: 'dry' },
      { type: 'webhook_call', url: receiverUrl, body: { again: true } },
    ],
  });
  await sealSecret(s.tenantId, automation);
  const runId = await queueRun(ds, s.tenantId, { automationId: automation, version: 1, leadId: s.lead, customerId: s.customer, dryRun: true });
  startWorkerProcess({ databaseAppUrl: db.appUrl, taskQueue, env: workerEnv }, workers);
  await admitRuns(ds, client, taskQueue, s.tenantId);
  const handle = client.workflow.getHandle(automationRunWorkflowId({ tenantId: s.tenantId, automationId: automation, runId }));
  expect(await handle.result()).toEqual({ status: 'completed' });
  const run = await runState(ds, s.tenantId, runId);
  expect(run.steps.map((x) => [x.path, x.status, (x.output as { dryRun?: boolean } | null)?.dryRun])).toEqual([
    ['0', 'completed', true],
    ['1', 'completed', true],
    ['2', 'completed', true],
  ]);
  await new Promise((r) => setTimeout(r, 1000)); // time for a late delivery to show
  expect(deliveries).toEqual([]);
});
