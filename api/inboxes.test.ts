// Inboxes of a customer: SMTP passwords are sealed and never returned;
// another customer's inbox is 404; a customer the tenant does not have is 400.
// IMAP settings: sealed the same way, under the same outbound policy, and
// they start, tell or end the inbox's mailbox reader.
import { WorkflowNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { generateKey, open, parseKeyring } from '../lib/encryption';
import { NO_EXCEPTIONS } from '../lib/outbound';
import { imapPasswordAad, smtpPasswordAad } from '../lib/secretScopes';
import { readMailboxWorkflowId } from '../workflows/ids';
import { TenantIdSearchAttribute } from '../workflows/searchAttributes';
import { connectClient, uniqueTaskQueue } from '../test/helpers/temporal';
import { withTenant } from '../db/tenantContext';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const suite = useSuiteDatabase('inboxes');
let ds: DataSource;
let a: TenantFixture;
let owner: Agent;

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  [owner] = await signedInMembers(ds, testApp(ds, { keyring }), a, ['owner']);
});

const c = (i: number) => a.customers[i]!.id;
const smtpInbox = {
  provider: 'smtp',
  fromEmail: 'Sales@Agency.example',
  fromName: 'Sales',
  dailyCap: 40,
  smtp: { host: 'smtp.agency.example', port: 587, secure: false, user: 'sales', password: 'smtp-secret-pw' },
};

it('stores the SMTP password sealed, bound to its inbox, and never returns it', async () => {
  const res = await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send(smtpInbox);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({
    id: expect.stringMatching(/^inb_/),
    fromEmail: 'sales@agency.example',
    dailyCap: 40,
    smtp: { host: 'smtp.agency.example', passwordSet: true },
  });
  expect(JSON.stringify(res.body)).not.toContain('smtp-secret-pw');
  const list = await owner.get('/api/inboxes').set('X-Customer-Id', c(0));
  expect(JSON.stringify(list.body)).not.toContain('smtp-secret-pw');
  const [row] = await withTenant(ds, a.tenant.id, (m) =>
    m.query('SELECT smtp_password_ciphertext AS ct, smtp_password_key_id AS k FROM inboxes WHERE id = $1', [res.body.id]),
  );
  expect(row.ct).not.toContain('smtp-secret-pw');
  expect(open(keyring, { keyId: row.k, ciphertext: row.ct }, smtpPasswordAad(a.tenant.id, c(0), res.body.id))).toBe('smtp-secret-pw');
  // A duplicate address for the same customer is a conflict.
  expect((await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send(smtpInbox)).status).toBe(409);
});

it('changes cap and settings; keeps the password unless a new one is given', async () => {
  const id = (
    await owner
      .post('/api/inboxes')
      .set('X-Customer-Id', c(1))
      .send({ ...smtpInbox, fromEmail: 'ops@agency.example' })
  ).body.id;
  const patched = await owner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(1)).send({ dailyCap: 25, warmupEnabled: true });
  expect(patched.body).toMatchObject({ dailyCap: 25, warmupEnabled: true, smtp: { passwordSet: true } });
  expect((await owner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(0)).send({ dailyCap: 1 })).status).toBe(404);
  expect((await owner.get(`/api/inboxes/${id}`).set('X-Customer-Id', c(1))).body.dailyCap).toBe(25);
  // The same server and user without a password keep it; another server without one drops it (it is sent to no other server).
  const same = await owner
    .patch(`/api/inboxes/${id}`)
    .set('X-Customer-Id', c(1))
    .send({ smtp: { ...smtpInbox.smtp, password: undefined } });
  expect(same.body.smtp).toMatchObject({ passwordSet: true });
  const moved = await owner
    .patch(`/api/inboxes/${id}`)
    .set('X-Customer-Id', c(1))
    .send({ smtp: { ...smtpInbox.smtp, host: 'smtp.elsewhere.example', password: undefined } });
  expect(moved.body.smtp).toMatchObject({ host: 'smtp.elsewhere.example', passwordSet: false });
});

it('refuses bad input: smtp without settings, caps out of range, unknown customers', async () => {
  expect(
    (await owner.post('/api/inboxes').set('X-Customer-Id', c(0)).send({ provider: 'smtp', fromEmail: 'x@y.example', dailyCap: 10 })).body.error.details[0].path,
  ).toBe('smtp');
  expect(
    (
      await owner
        .post('/api/inboxes')
        .set('X-Customer-Id', c(0))
        .send({ ...smtpInbox, fromEmail: 'z@y.example', dailyCap: 0 })
    ).status,
  ).toBe(400);
  const ghost = await owner
    .post('/api/inboxes')
    .set('X-Customer-Id', 'cust_00000000000000000000000000')
    .send({ ...smtpInbox, fromEmail: 'g@y.example' });
  expect(ghost.body.error.code).toBe('invalid_customer_context');
});

it('refuses to store a secret without an encryption keyring (503), writing nothing', async () => {
  const [noKeys] = await signedInMembers(ds, testApp(ds), a, ['admin']);
  const res = await noKeys
    .post('/api/inboxes')
    .set('X-Customer-Id', c(0))
    .send({ ...smtpInbox, fromEmail: 'nokeys@agency.example' });
  expect(res.status).toBe(503);
  expect(res.body.error.code).toBe('encryption_not_configured');
  const list = await owner.get('/api/inboxes?q=nokeys').set('X-Customer-Id', c(0));
  expect(list.body.data).toEqual([]);
});

describe('IMAP settings of an smtp inbox (the mailbox reader)', () => {
  // A real Temporal client and a task queue no worker polls: the reader's
  // workflow is started and signalled, never run, so its history shows what the API did.
  let temporal: Awaited<ReturnType<typeof connectClient>>;
  let imapOwner: Agent;
  let strictOwner: Agent;
  const taskQueue = uniqueTaskQueue('inbox-imap');
  const started: string[] = [];
  const imap = { host: 'imap.agency.example', port: 993, secure: true, user: 'sales@agency.example', password: 'imap-app-password' };

  beforeAll(async () => {
    temporal = await connectClient();
    const app = testApp(ds, { keyring, client: temporal.client, taskQueue });
    [imapOwner] = await signedInMembers(ds, app, a, ['owner']);
    [strictOwner] = await signedInMembers(ds, testApp(ds, { keyring, client: temporal.client, taskQueue, outbound: NO_EXCEPTIONS }), a, ['owner']);
  });

  afterAll(async () => {
    for (const id of started)
      await temporal.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    await temporal.connection.close();
  });

  const readerId = (inboxId: string) => readMailboxWorkflowId({ tenantId: a.tenant.id, inboxId });
  /** How often the API told the reader to read (its settingsChanged signals), or null when it never started. */
  async function signalsOf(inboxId: string): Promise<number | null> {
    const handle = temporal.client.workflow.getHandle(readerId(inboxId));
    try {
      await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
    const history = await handle.fetchHistory();
    return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'settingsChanged').length;
  }
  const imapRow = async (id: string) =>
    (
      (await withTenant(ds, a.tenant.id, (m) =>
        m.query('SELECT imap_host, imap_user, imap_password_ciphertext AS ct, imap_password_key_id AS k FROM inboxes WHERE id = $1', [id]),
      )) as { imap_host: string | null; imap_user: string | null; ct: string | null; k: string | null }[]
    )[0]!;
  const checkpointRows = async (id: string) =>
    ((await withTenant(ds, a.tenant.id, (m) => m.query('SELECT last_uid FROM inbox_mailboxes WHERE inbox_id = $1', [id]))) as unknown[]).length;

  it('stores them with the password sealed to the inbox, never returns it, and starts the reader with TenantId', async () => {
    const res = await imapOwner
      .post('/api/inboxes')
      .set('X-Customer-Id', c(0))
      .send({ ...smtpInbox, fromEmail: 'imap-create@agency.example', imap });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    started.push(readerId(id));
    expect(res.body.imap).toEqual({ host: imap.host, port: 993, secure: true, user: imap.user, hasPassword: true, lastSyncedAt: null, stored: 0, error: null });
    expect(JSON.stringify(res.body)).not.toContain('imap-app-password');
    const row = await imapRow(id);
    expect(open(keyring, { keyId: row.k!, ciphertext: row.ct! }, imapPasswordAad(a.tenant.id, c(0), id))).toBe('imap-app-password');
    // Not the SMTP password's scope: a ciphertext moved between the two does not open.
    expect(() => open(keyring, { keyId: row.k!, ciphertext: row.ct! }, smtpPasswordAad(a.tenant.id, c(0), id))).toThrow();
    const described = await temporal.client.workflow.getHandle(readerId(id)).describe();
    expect(described.type).toBe('readMailbox');
    expect(described.status.name).toBe('RUNNING');
    expect(described.typedSearchAttributes.get(TenantIdSearchAttribute)).toBe(a.tenant.id);
    expect(await signalsOf(id)).toBe(1);
  });

  it('keeps the stored password when none is given, forgets the checkpoint when the mailbox changes, and tells the reader each time', async () => {
    const id = (
      await imapOwner
        .post('/api/inboxes')
        .set('X-Customer-Id', c(0))
        .send({ ...smtpInbox, fromEmail: 'imap-patch@agency.example' })
    ).body.id as string;
    expect((await imapOwner.get(`/api/inboxes/${id}`).set('X-Customer-Id', c(0))).body.imap).toBeNull();
    expect(await signalsOf(id)).toBeNull();
    const set = await imapOwner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(0)).send({ imap });
    expect(set.status).toBe(200);
    started.push(readerId(id));
    const sealed = (await imapRow(id)).ct;
    // The reader's state as the inbox page shows it.
    await withTenant(ds, a.tenant.id, (m) =>
      m.query(
        `INSERT INTO inbox_mailboxes (tenant_id, inbox_id, uid_validity, last_uid, stored, synced_at, error)
         VALUES ($1, $2, 7, 12, 12, '2026-12-01T10:00:00Z', 'the IMAP server refused the user name or password')`,
        [a.tenant.id, id],
      ),
    );
    const shown = await imapOwner.get(`/api/inboxes/${id}`).set('X-Customer-Id', c(0));
    expect(shown.body.imap).toMatchObject({ stored: 12, lastSyncedAt: '2026-12-01T10:00:00.000Z', error: 'the IMAP server refused the user name or password' });

    // Same mailbox, no password: the sealed one stays, and so does the checkpoint.
    const same = await imapOwner
      .patch(`/api/inboxes/${id}`)
      .set('X-Customer-Id', c(0))
      .send({ imap: { host: imap.host, port: imap.port, secure: true, user: imap.user } });
    expect(same.status).toBe(200);
    expect(same.body.imap.hasPassword).toBe(true);
    expect((await imapRow(id)).ct).toBe(sealed);
    expect(await checkpointRows(id)).toBe(1);
    // The stored password goes to no other server or user: naming one takes the password again, and nothing is written without it.
    for (const moved of [{ user: 'other@agency.example' }, { host: 'imap.elsewhere.example' }, { port: 143 }]) {
      const refused = await imapOwner
        .patch(`/api/inboxes/${id}`)
        .set('X-Customer-Id', c(0))
        .send({ imap: { ...imap, ...moved, password: undefined } });
      expect(refused.status).toBe(400);
      expect(refused.body.error.details).toEqual([
        expect.objectContaining({ path: 'imap.password', message: 'give the mailbox password again: the server or user changed' }),
      ]);
    }
    expect((await imapRow(id)).imap_user).toBe(imap.user);
    // Another user is another mailbox: its UIDs owe nothing to the old checkpoint.
    const other = await imapOwner
      .patch(`/api/inboxes/${id}`)
      .set('X-Customer-Id', c(0))
      .send({ imap: { ...imap, user: 'other@agency.example', password: 'other-app-password' } });
    expect(other.status).toBe(200);
    expect(other.body.imap).toMatchObject({ user: 'other@agency.example', hasPassword: true, stored: 0, lastSyncedAt: null });
    expect(await checkpointRows(id)).toBe(0);
    expect(await signalsOf(id)).toBe(3);
  });

  it('clears them with null, telling the reader (which then ends); removing the inbox tells it too', async () => {
    const id = (
      await imapOwner
        .post('/api/inboxes')
        .set('X-Customer-Id', c(1))
        .send({ ...smtpInbox, fromEmail: 'imap-clear@agency.example', imap })
    ).body.id as string;
    started.push(readerId(id));
    const cleared = await imapOwner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(1)).send({ imap: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.imap).toBeNull();
    expect(await imapRow(id)).toEqual({ imap_host: null, imap_user: null, ct: null, k: null });
    expect(await signalsOf(id)).toBe(2);
    // Clearing what is not set tells nobody.
    expect((await imapOwner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(1)).send({ imap: null })).status).toBe(200);
    expect(await signalsOf(id)).toBe(2);

    expect((await imapOwner.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(1)).send({ imap })).status).toBe(200);
    expect((await imapOwner.delete(`/api/inboxes/${id}`).set('X-Customer-Id', c(1))).status).toBe(204);
    expect(await signalsOf(id)).toBe(4);
  });

  it('refuses bad settings with 400, writing nothing and starting nothing', async () => {
    const id = (
      await imapOwner
        .post('/api/inboxes')
        .set('X-Customer-Id', c(0))
        .send({ ...smtpInbox, fromEmail: 'imap-bad@agency.example' })
    ).body.id as string;
    const bad: [Agent, object, string][] = [
      [imapOwner, { imap: { ...imap, password: undefined } }, 'imap.password'],
      [imapOwner, { imap: { ...imap, port: 0 } }, 'imap.port'],
      [imapOwner, { imap: { ...imap, host: 'imap host' } }, 'imap.host'],
      [imapOwner, { imap: { ...imap, user: '' } }, 'imap.user'],
      [imapOwner, { imap: { ...imap, folder: 'Archive' } }, 'imap'],
      // Loopback, without the operator's allow-list: the SMTP host's policy.
      [strictOwner, { imap: { ...imap, host: '127.0.0.1' } }, 'imap.host'],
    ];
    for (const [agent, body, path] of bad) {
      const res = await agent.patch(`/api/inboxes/${id}`).set('X-Customer-Id', c(0)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    expect(await imapRow(id)).toEqual({ imap_host: null, imap_user: null, ct: null, k: null });
    expect(await signalsOf(id)).toBeNull();

    // Only smtp inboxes read a mailbox; a create that fails validation adds no inbox.
    const smartlead = await imapOwner
      .post('/api/inboxes')
      .set('X-Customer-Id', c(0))
      .send({ provider: 'smartlead', fromEmail: 'imap-sl@agency.example', dailyCap: 10, imap });
    expect(smartlead.status).toBe(400);
    expect(smartlead.body.error.details.map((d: { path: string }) => d.path)).toContain('imap');
    const loopback = await strictOwner
      .post('/api/inboxes')
      .set('X-Customer-Id', c(0))
      .send({ ...smtpInbox, fromEmail: 'imap-loop@agency.example', imap: { ...imap, host: '127.0.0.1' } });
    expect(loopback.status).toBe(400);
    const list = await imapOwner.get('/api/inboxes?q=imap-').set('X-Customer-Id', c(0));
    expect(list.body.data.map((i: { fromEmail: string }) => i.fromEmail).sort()).toEqual([
      'imap-bad@agency.example',
      'imap-create@agency.example',
      'imap-patch@agency.example',
    ]);
  });
});
