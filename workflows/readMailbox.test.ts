// The mailbox reader against a real IMAP server (GreenMail) and the run's
// Temporal dev server, with the project's worker: mail appended while it
// reads is stored once, a new UIDVALIDITY is read again from the start
// without duplicates, an IMAP server that restarts empty loses nothing, a
// reply read over IMAP stops its enrollment before its next step, a refused
// login waits for new settings, and nothing in the mailbox is ever moved,
// deleted or flagged.
import { type Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { setInboxImap } from '../db/inboxes';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring } from '../lib/encryption';
import { testApp, type Agent } from '../test/helpers/api';
import { createTenant } from '../test/helpers/fixtures';
import { startGreenMail, type TestGreenMail } from '../test/helpers/greenmail';
import {
  checkpointOf,
  type MailboxFixture,
  mailboxFixture,
  mailboxSnapshot,
  noteFromLead,
  noteId,
  pointImapAt,
  startReader,
  storedInbound,
} from '../test/helpers/mailboxReader';
import { setCampaignStatus, until } from '../test/helpers/outreach';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { connectClient, startProjectWorker, uniqueTaskQueue } from '../test/helpers/temporal';
import { enrollmentWorkflowId, readMailboxWorkflowId } from './ids';
import { settingsChangedSignal } from './readMailbox.contract';

jest.setTimeout(120_000);

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const suite = useSuiteDatabase('read-mailbox');
const taskQueue = uniqueTaskQueue('read-mailbox');
let ds: DataSource;
let gm: TestGreenMail;
let temporal: Awaited<ReturnType<typeof connectClient>>;
let client: Client;
let worker: { stop(): Promise<void> };
let owner: Agent;
let ids: { tenantId: string; customerId: string };
const readers: string[] = [];

beforeAll(async () => {
  ds = suite.ds;
  gm = await startGreenMail();
  temporal = await connectClient();
  client = temporal.client;
  const t = await createTenant(ds, { customers: 1 });
  ids = { tenantId: t.tenant.id, customerId: t.customers[0]!.id };
  [owner] = await signedInMembers(ds, testApp(ds, { keyring, client, taskQueue }), t, ['owner']);
  worker = await startProjectWorker({ taskQueue, dataSource: ds, keyring });
});

afterAll(async () => {
  for (const id of readers)
    await client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await worker?.stop();
  await temporal?.connection.close();
  await gm?.stop();
});

async function reading(f: MailboxFixture, input: Parameters<typeof startReader>[3] = {}) {
  const handle = await startReader(client, taskQueue, f, input);
  readers.push(handle.workflowId);
  return handle;
}

/** Appends notes `from`..`to` (inclusive) over `lanes` connections at once. */
async function appendNotes(f: MailboxFixture, from: number, to: number, lanes = 4, flagsOf: (n: number) => string[] = () => []): Promise<void> {
  const all = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      for (const n of all.filter((_, i) => i % lanes === lane)) await gm.append(f.user, noteFromLead(f, n), { flags: flagsOf(n) });
    }),
  );
}

const expectedIds = (f: MailboxFixture, from: number, to: number, tag?: string) =>
  Array.from({ length: to - from + 1 }, (_, i) => noteId(f, from + i, tag)).sort();

async function storedCount(f: MailboxFixture, n: number, label: string, timeoutMs = 60_000) {
  return until(
    label,
    async () => {
      const stored = await storedInbound(ds, f);
      return stored.size >= n ? stored : undefined;
    },
    timeoutMs,
  );
}

it('stores each of 200 messages appended while it reads exactly once, and leaves the mailbox as it found it', async () => {
  const f = await mailboxFixture(owner, gm, ids, 'twohundred');
  await pointImapAt(ds, keyring, gm, f);
  // Some arrive already read or flagged: a reader must not change either.
  const flagsOf = (n: number) => (n % 7 === 0 ? ['\\Seen'] : n % 11 === 0 ? ['\\Flagged'] : []);
  await appendNotes(f, 1, 20, 2, flagsOf);
  await reading(f);
  await appendNotes(f, 21, 200, 4, flagsOf);
  const appended = await mailboxSnapshot(gm, f.user);
  expect(appended.messages).toHaveLength(200);

  const stored = await storedCount(f, 200, '200 messages stored', 90_000);
  expect([...stored.keys()].sort()).toEqual(expectedIds(f, 1, 200));
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
  const checkpoint = await checkpointOf(ds, f);
  expect(checkpoint).toMatchObject({ stored: 200, error: null, last_uid: Math.max(...appended.messages.map(([uid]) => uid)) });

  // Read-only: the same messages, the same flags (no \Seen added, nothing \Deleted), the same folders.
  const after = await mailboxSnapshot(gm, f.user);
  expect(after).toEqual(appended);
  expect(after.messages.filter(([, flags]) => flags.includes('\\Seen'))).toHaveLength(28);
});

it('reads the whole mailbox again under a new UIDVALIDITY, storing only what is missing', async () => {
  const f = await mailboxFixture(owner, gm, ids, 'uidvalidity');
  await pointImapAt(ds, keyring, gm, f);
  await appendNotes(f, 1, 30);
  const handle = await reading(f);
  await storedCount(f, 30, '30 messages stored');
  const before = (await checkpointOf(ds, f))!;
  expect(before.stored).toBe(30);

  // The checkpoint names another UIDVALIDITY (the mailbox was recreated, as
  // far as the reader can tell), and five stored messages went missing: a
  // full resync stores exactly those five again, and nothing twice.
  const lost = [noteId(f, 2), noteId(f, 3), noteId(f, 17), noteId(f, 29), noteId(f, 30)];
  await withTenant(ds, f.tenantId, async (m) => {
    await m.query('UPDATE inbox_mailboxes SET uid_validity = uid_validity + 1 WHERE inbox_id = $1', [f.inboxId]);
    await m.query('DELETE FROM messages WHERE inbox_id = $1 AND message_id = ANY($2)', [f.inboxId, lost]);
  });
  expect((await storedInbound(ds, f)).size).toBe(25);
  await handle.signal(settingsChangedSignal);
  const after = await until(
    'the resync',
    async () => {
      const c = await checkpointOf(ds, f);
      return c?.uid_validity === before.uid_validity && c.stored === 35 ? c : undefined;
    },
    60_000,
  );
  expect(after.last_uid).toBe(before.last_uid);
  const stored = await storedInbound(ds, f);
  expect([...stored.keys()].sort()).toEqual(expectedIds(f, 1, 30));
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
});

it('records a refused login on the inbox and waits for new settings, then reads; cleared settings end it', async () => {
  const f = await mailboxFixture(owner, gm, ids, 'refused');
  await pointImapAt(ds, keyring, gm, f, 'not-the-password');
  await appendNotes(f, 1, 3, 1);
  const handle = await reading(f);
  const refused = await until('the refusal', async () => (await checkpointOf(ds, f))?.error ?? undefined, 30_000);
  expect(refused).toBe('the IMAP server refused the user name or password');
  expect((await handle.describe()).status.name).toBe('RUNNING');
  expect((await storedInbound(ds, f)).size).toBe(0);

  await pointImapAt(ds, keyring, gm, f);
  await handle.signal(settingsChangedSignal);
  await storedCount(f, 3, 'the messages after the fix');
  expect((await checkpointOf(ds, f))?.error).toBeNull();

  await withTenant(ds, f.tenantId, (m) => setInboxImap(m, f.inboxId, null));
  await handle.signal(settingsChangedSignal);
  expect(await handle.result()).toMatchObject({ stored: 3 });
});

it('stops an enrollment by a reply read over IMAP, long before its next step is due', async () => {
  const f = await mailboxFixture(owner, gm, ids, 'reply', {
    steps: [
      { subject: 'Hello {{firstName}}', body: 'A first note.', delayHours: 0 },
      { subject: 'Following up', body: 'A second note.', delayHours: 1 },
    ],
  });
  await pointImapAt(ds, keyring, gm, f);
  await reading(f);
  await setCampaignStatus(owner, f.customerId, f.campaignId, 'active');
  const sent = await until(
    'step 1 to be sent',
    async () => {
      const [row] = (await withTenant(ds, f.tenantId, (m) =>
        m.query("SELECT message_id, lead_id FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted'", [f.campaignId]),
      )) as { message_id: string; lead_id: string }[];
      return row;
    },
    60_000,
  );
  const enrollment = client.workflow.getHandle(enrollmentWorkflowId({ tenantId: f.tenantId, campaignId: f.campaignId, leadId: sent.lead_id }));
  expect((await enrollment.describe()).status.name).toBe('RUNNING');

  await gm.append(
    f.user,
    [
      `From: Lena Lead <${f.lead}>`,
      `To: ${f.user.email}`,
      'Subject: Re: Hello Lena',
      `Message-ID: <answer.${f.inboxId}@lead.example>`,
      `In-Reply-To: ${sent.message_id}`,
      `References: ${sent.message_id}`,
      '',
      'Yes, tell me more.',
      '',
    ].join('\r\n'),
  );
  // The enrollment workflow ends on the reply's signal, not at its next step an hour away.
  await until('the enrollment workflow to end', async () => ((await enrollment.describe()).status.name === 'COMPLETED' ? true : undefined), 30_000);
  const [row] = (await withTenant(ds, f.tenantId, (m) =>
    m.query('SELECT e.status, e.sent, l.status AS lead_status FROM enrollments e JOIN leads l ON l.id = e.lead_id WHERE e.campaign_id = $1', [f.campaignId]),
  )) as { status: string; sent: number; lead_status: string }[];
  expect(row).toMatchObject({ status: 'replied', sent: 1 });
  const outbound = (await withTenant(ds, f.tenantId, (m) =>
    m.query("SELECT step FROM messages WHERE campaign_id = $1 AND direction = 'outbound'", [f.campaignId]),
  )) as unknown[];
  expect(outbound).toHaveLength(1);
  expect([...(await storedInbound(ds, f)).keys()]).toEqual([`<answer.${f.inboxId}@lead.example>`]);
});

/** A note from the lead without a Message-ID (some mailers send none). */
const bareNote = (f: MailboxFixture) =>
  [
    `From: Lena Lead <${f.lead}>`,
    `To: Sales <${f.user.email}>`,
    'Subject: No id',
    'Date: Sat, 05 Dec 2026 11:00:00 +0000',
    '',
    'A note with no Message-ID.',
    '',
  ].join('\r\n');

const bareKeys = (stored: Map<string, number>) => [...stored.entries()].filter(([id]) => id.endsWith('@mailbox.invalid>'));

// Last: the restart empties every GreenMail mailbox.
it('loses and duplicates nothing when the IMAP server restarts empty, with a new UIDVALIDITY, and gets the same mail again', async () => {
  const f = await mailboxFixture(owner, gm, ids, 'restart');
  await pointImapAt(ds, keyring, gm, f);
  await appendNotes(f, 1, 40);
  await gm.append(f.user, bareNote(f));
  await reading(f);
  const first = await storedCount(f, 41, '41 messages stored');
  expect(bareKeys(first)).toEqual([[expect.any(String), 1]]);
  const before = (await checkpointOf(ds, f))!;

  // GreenMail stamps UIDVALIDITY with the mailbox's creation second.
  await new Promise((r) => setTimeout(r, 1100));
  await gm.restart();
  // Five new messages first — their UIDs lie below the old checkpoint — then
  // the same mail again (a restored server), in another order.
  await appendNotes(f, 41, 45, 1);
  await appendNotes(f, 1, 40, 3);
  // The mail without a Message-ID comes again too, under another UID and UIDVALIDITY: it is known by its content.
  await gm.append(f.user, bareNote(f));
  const stored = await storedCount(f, 46, 'the five new messages', 90_000);
  await until('the checkpoint to reach the last message', async () => ((await checkpointOf(ds, f))!.last_uid === 46 ? true : undefined), 30_000);
  const after = (await checkpointOf(ds, f))!;
  expect(after.uid_validity).not.toBe(before.uid_validity);
  const all = await storedInbound(ds, f);
  expect(bareKeys(all)).toEqual(bareKeys(first));
  expect([...all.keys()].filter((id) => !id.endsWith('@mailbox.invalid>')).sort()).toEqual(expectedIds(f, 1, 45));
  expect([...stored.values()].every((n) => n === 1)).toBe(true);
  expect(after.stored).toBe(46);
});

it('names its workflow tenant/{t}/inbox/{inb}/mailbox', () => {
  expect(readMailboxWorkflowId({ tenantId: 't1', inboxId: 'inb_1' })).toBe('tenant/t1/inbox/inb_1/mailbox');
});
