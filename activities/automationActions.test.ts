// The notify and webhook_call actions, against a real database and a
// recording HTTP server on 127.0.0.1 (allow-listed, as an operator would
// allow a local receiver): every attempt of a step sends the same webhook id
// and writes no second notification, a retried notify mails nobody twice,
// and an internal destination is refused with the step's error.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring, seal } from '../lib/encryption';
import { NO_EXCEPTIONS, parseOutboundAllowlist } from '../lib/outbound';
import { type PlatformMail } from '../lib/platformMail';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { WEBHOOK_HTTP_ERROR, WEBHOOK_REFUSED_ADDRESS, WEBHOOK_RETRYABLE, type WebhookCallInput } from '../workflows/automationRun.contract';
import { insertRun } from '../db/automationRuns';
import { automationSecretAad } from '../lib/secretScopes';
import { createAutomationActionActivities } from './automationActions';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const SECRET = `whsec_${Buffer.from('the automation signing secret 32').toString('base64')}`;
let db: TestDatabase;
let ds: DataSource;
let t: TenantFixture;
let automationId: string;
let runId: string;
const owners: { id: string; email: string }[] = [];
let viewer: { id: string; email: string };
let outsider: { id: string };

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
}
const deliveries: Delivery[] = [];
let statuses: number[] = [];
let server: http.Server;
let hookUrl: string;

beforeAll(async () => {
  db = await createTestDatabase('automation-actions');
  ds = await openDataSource(db.appUrl);
  t = await createTenant(ds, { customers: 1 });
  for (let i = 0; i < 2; i++) {
    const u = await createUser(ds);
    await addMember(ds, t, u, 'owner');
    owners.push({ id: u.id, email: u.email });
  }
  const v = await createUser(ds);
  await addMember(ds, t, v, 'viewer');
  viewer = { id: v.id, email: v.email };
  outsider = { id: (await createUser(ds)).id };
  automationId = newId('auto');
  await withTenant(ds, t.tenant.id, (m) =>
    m.query("INSERT INTO automations (tenant_id, id, name, webhook_secret) VALUES (current_setting('app.tenant_id')::uuid, $1, 'Hooks', $2::jsonb)", [
      automationId,
      JSON.stringify(seal(keyring, SECRET, automationSecretAad(t.tenant.id, automationId))),
    ]),
  );
  // The run whose data a call sends: read from the database by the activity, never passed through history.
  runId = newId('arun');
  await withTenant(ds, t.tenant.id, async (m) => {
    await m.query(
      "INSERT INTO automation_versions (tenant_id, automation_id, version, definition) VALUES (current_setting('app.tenant_id')::uuid, $1, 1, '{}'::jsonb)",
      [automationId],
    );
    await insertRun(m, {
      id: runId,
      automationId,
      version: 1,
      customerId: null,
      leadId: null,
      trigger: { type: 'manual', payload: { order: 'A-17' } },
      dedupeKey: null,
    });
  });
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body });
      res.writeHead(statuses.shift() ?? 200).end('{"ok":false,"why":"down"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await ds?.destroy();
  await db?.drop();
});

beforeEach(() => {
  deliveries.length = 0;
  statuses = [];
});

const local = () => createAutomationActionActivities({ dataSource: ds, keyring, outbound: parseOutboundAllowlist('127.0.0.1') });
const call = (over: Partial<WebhookCallInput> = {}): WebhookCallInput => ({
  tenantId: t.tenant.id,
  automationId,
  runId,
  path: '2.event.0',
  url: hookUrl,
  body: { hello: 'world' },
  ...over,
});

/** What a receiver checks: HMAC-SHA256 with the secret's base64-decoded bytes over "{id}.{timestamp}.{body}". */
function verifies(d: Delivery): boolean {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${d.headers['webhook-id']}.${d.headers['webhook-timestamp']}.${d.body}`).digest('base64');
  return d.headers['webhook-signature'] === `v1,${expected}`;
}

async function failure(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('webhook_call', () => {
  it('retries a 500 with the same webhook id, signed with the automation’s secret', async () => {
    statuses = [500];
    const input = call();
    const first = await failure(local().automationWebhookCall(input));
    expect({ type: first.type, nonRetryable: first.nonRetryable }).toEqual({ type: WEBHOOK_RETRYABLE, nonRetryable: false });
    expect(first.message).toContain('answered 500');
    expect(first.message).not.toContain('down');
    expect(await local().automationWebhookCall(input)).toEqual({ status: 200, webhookId: `${input.runId}:2.event.0` });
    expect(deliveries.map((d) => d.headers['webhook-id'])).toEqual([`${input.runId}:2.event.0`, `${input.runId}:2.event.0`]);
    expect(deliveries.every(verifies)).toBe(true);
    expect(JSON.parse(deliveries[0]!.body)).toEqual({
      type: 'automation.webhook_call',
      automationId,
      runId: input.runId,
      step: '2.event.0',
      data: { trigger: { type: 'manual', payload: { order: 'A-17' } } },
      body: { hello: 'world' },
    });
  });

  it('sends the same webhook id from a fresh worker given the same input (a worker killed mid-call)', async () => {
    const input = call();
    await createAutomationActionActivities({ dataSource: ds, keyring, outbound: parseOutboundAllowlist('127.0.0.1') }).automationWebhookCall(input);
    await createAutomationActionActivities({ dataSource: ds, keyring, outbound: parseOutboundAllowlist('127.0.0.1') }).automationWebhookCall(input);
    expect(deliveries).toHaveLength(2);
    expect(deliveries[0]!.headers['webhook-id']).toBe(deliveries[1]!.headers['webhook-id']);
    expect(deliveries.every(verifies)).toBe(true);
  });

  it('fails a 4xx at once', async () => {
    statuses = [410];
    const err = await failure(local().automationWebhookCall(call()));
    expect({ type: err.type, nonRetryable: err.nonRetryable }).toEqual({ type: WEBHOOK_HTTP_ERROR, nonRetryable: true });
  });

  it('keeps the receiver’s answer out of the failure (it lands in history) and on the step’s row', async () => {
    await withTenant(ds, t.tenant.id, (m) =>
      m.query(
        "INSERT INTO automation_run_steps (tenant_id, run_id, path, ordinal, type, status) VALUES (current_setting('app.tenant_id')::uuid, $1, '5', 5, 'webhook_call', 'running')",
        [runId],
      ),
    );
    statuses = [422];
    const err = await failure(local().automationWebhookCall(call({ path: '5' })));
    expect(err.message).toBe(`webhook_call to ${hookUrl} answered 422`);
    expect(JSON.stringify(err.details)).not.toContain('down');
    const [step] = (await withTenant(ds, t.tenant.id, (m) => m.query("SELECT output FROM automation_run_steps WHERE run_id = $1 AND path = '5'", [runId]))) as {
      output: unknown;
    }[];
    expect(step!.output).toEqual({ status: 422, response: '{"ok":false,"why":"down"}' });
  });

  it('retries a 429', async () => {
    statuses = [429];
    const err = await failure(local().automationWebhookCall(call()));
    expect({ type: err.type, nonRetryable: err.nonRetryable }).toEqual({ type: WEBHOOK_RETRYABLE, nonRetryable: false });
  });

  it.each([
    ['loopback', () => hookUrl],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', () => 'http://10.0.0.1/hook'],
  ])('refuses %s without the operator’s exception, naming why', async (_what, url) => {
    const strict = createAutomationActionActivities({ dataSource: ds, keyring, outbound: NO_EXCEPTIONS });
    const err = await failure(strict.automationWebhookCall(call({ url: url() })));
    expect({ type: err.type, nonRetryable: err.nonRetryable }).toEqual({ type: WEBHOOK_REFUSED_ADDRESS, nonRetryable: true });
    expect(err.message).toMatch(/refused: .* internal address/);
    expect(deliveries).toHaveLength(0);
  });

  it('refuses a redirect to the metadata address', async () => {
    const redirecting = http.createServer((_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end());
    await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`;
      const err = await failure(local().automationWebhookCall(call({ url })));
      expect(err.type).toBe(WEBHOOK_REFUSED_ADDRESS);
      expect(err.message).toContain('http://169.254.169.254/');
    } finally {
      redirecting.closeAllConnections();
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });
});

describe('notify', () => {
  const notifications = (runId: string) =>
    withTenant(ds, t.tenant.id, (m) =>
      m.query('SELECT user_id, title, link, dedupe_key FROM notifications WHERE run_id = $1 ORDER BY user_id', [runId]),
    ) as Promise<{ user_id: string; title: string; link: string; dedupe_key: string }[]>;

  it('notifies the owners once per step, and a retried attempt neither writes nor mails again', async () => {
    const mails: PlatformMail[] = [];
    const acts = createAutomationActionActivities({ dataSource: ds, keyring, mailer: async (mail) => void mails.push(mail) });
    const runId = newId('arun');
    const input = { tenantId: t.tenant.id, automationId, runId, path: '2.timeout.0', to: 'owners' as const, title: 'No reply', email: true };
    const ownerIds = owners.map((o) => o.id).sort();
    expect(await acts.automationNotify(input)).toEqual({ userIds: ownerIds, mailed: 2 });
    expect(await acts.automationNotify(input)).toEqual({ userIds: ownerIds, mailed: 0 });
    const rows = await notifications(runId);
    expect(rows).toEqual(
      ownerIds.map((id) => ({ user_id: id, title: 'No reply', link: `/provider/automation-runs/${runId}`, dedupe_key: `run:${runId}:2.timeout.0` })),
    );
    expect(mails.map((m) => m.to).sort()).toEqual(owners.map((o) => o.email).sort());
    expect(mails[0]!.text).toContain('No reply');
  });

  it('notifies the named members only, and mails nobody without `email`', async () => {
    const mails: PlatformMail[] = [];
    const acts = createAutomationActionActivities({ dataSource: ds, keyring, mailer: async (mail) => void mails.push(mail) });
    const runId = newId('arun');
    const result = await acts.automationNotify({ tenantId: t.tenant.id, automationId, runId, path: '0', to: [viewer.id, outsider.id], title: 'Hi' });
    expect(result).toEqual({ userIds: [viewer.id], mailed: 0 });
    expect((await notifications(runId)).map((r) => r.user_id)).toEqual([viewer.id]);
    expect(mails).toEqual([]);
  });

  it('writes the rows without a mailer, and a failed mail is retried (its row rolled back)', async () => {
    const runId = newId('arun');
    const input = { tenantId: t.tenant.id, automationId, runId, path: '1', to: [viewer.id], title: 'Mail me', email: true };
    const noMailer = createAutomationActionActivities({ dataSource: ds, keyring });
    expect(await noMailer.automationNotify({ ...input, runId: newId('arun') })).toEqual({ userIds: [viewer.id], mailed: 0 });
    let fail = true;
    const mails: PlatformMail[] = [];
    const flaky = createAutomationActionActivities({
      dataSource: ds,
      keyring,
      mailer: async (mail) => {
        if (fail) throw new Error('SMTP down');
        mails.push(mail);
      },
    });
    await expect(flaky.automationNotify(input)).rejects.toThrow('SMTP down');
    expect(await notifications(runId)).toEqual([]);
    fail = false;
    expect(await flaky.automationNotify(input)).toEqual({ userIds: [viewer.id], mailed: 1 });
    expect(mails.map((m) => m.to)).toEqual([viewer.email]);
  });
});
