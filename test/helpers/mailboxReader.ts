// The mailbox reader's fixtures: a customer whose SMTP inbox reads its own
// GreenMail mailbox over IMAP, a lead whose mail the store keeps, raw mails
// from that lead, and what the database holds of them.
import { type Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { setInboxImap } from '../../db/inboxes';
import { withTenant } from '../../db/tenantContext';
import { type Keyring, seal } from '../../lib/encryption';
import { imapPasswordAad } from '../../lib/secretScopes';
import { tenantSearchAttributes } from '../../services/tenantWorkflows';
import { readMailboxWorkflowId } from '../../workflows/ids';
import { READ_MAILBOX, type ReadMailboxInput } from '../../workflows/readMailbox.contract';
import { type Agent } from './api';
import { type GreenMailUser, type TestGreenMail } from './greenmail';
import { addLeads, createCampaign, createSmtpInbox } from './outreach';

export interface MailboxFixture {
  tenantId: string;
  customerId: string;
  inboxId: string;
  user: GreenMailUser;
  lead: string;
  campaignId: string;
}

/** A GreenMail user, an SMTP inbox of the customer for its address (sending through GreenMail) and a lead in a draft campaign. */
export async function mailboxFixture(
  owner: Agent,
  gm: TestGreenMail,
  ids: { tenantId: string; customerId: string },
  label: string,
  opts: { steps?: { subject: string; body: string; delayHours: number }[] } = {},
): Promise<MailboxFixture> {
  const user = { email: `${label}-${Math.random().toString(36).slice(2, 8)}@agency.test`, password: `pw-${label}` };
  await gm.createUser(user);
  const inboxId = await createSmtpInbox(owner, ids.customerId, gm.smtpPort, { fromEmail: user.email });
  const lead = `lena-${label}@lead.example`;
  const campaignId = await createCampaign(owner, ids.customerId, { inboxIds: [inboxId], ...(opts.steps ? { steps: opts.steps } : {}) });
  await addLeads(owner, ids.customerId, campaignId, [{ email: lead, firstName: 'Lena' }]);
  return { ...ids, inboxId, user, lead, campaignId };
}

/** Points the inbox's IMAP settings at GreenMail (as the API stores them: password sealed to the inbox). */
export async function pointImapAt(ds: DataSource, keyring: Keyring, gm: TestGreenMail, f: MailboxFixture, password = f.user.password): Promise<void> {
  await withTenant(ds, f.tenantId, (m) =>
    setInboxImap(m, f.inboxId, {
      host: gm.host,
      port: gm.imapPort,
      secure: false,
      user: f.user.email,
      sealedPassword: seal(keyring, password, imapPasswordAad(f.tenantId, f.customerId, f.inboxId)),
    }),
  );
}

/** Starts the inbox's reader on `taskQueue` with test-sized batches and a one-second poll. */
export async function startReader(client: Client, taskQueue: string, f: MailboxFixture, input: Partial<ReadMailboxInput> = {}) {
  return client.workflow.start(READ_MAILBOX, {
    workflowId: readMailboxWorkflowId(f),
    taskQueue,
    args: [{ tenantId: f.tenantId, inboxId: f.inboxId, pollSeconds: 1, rejectedRetrySeconds: 600, limits: { batchMessages: 10, batchesPerCall: 3 }, ...input }],
    typedSearchAttributes: tenantSearchAttributes(f.tenantId),
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
  });
}

/** A plain note from the fixture's lead to the inbox, with its own Message-ID. */
export function noteFromLead(f: MailboxFixture, n: number, tag = 'note'): string {
  return [
    `From: Lena Lead <${f.lead}>`,
    `To: Sales <${f.user.email}>`,
    `Subject: Note ${n}`,
    'Date: Sat, 05 Dec 2026 10:00:00 +0000',
    `Message-ID: ${noteId(f, n, tag)}`,
    '',
    `Note number ${n}.`,
    '',
  ].join('\r\n');
}

export const noteId = (f: MailboxFixture, n: number, tag = 'note') => `<${tag}-${n}.${f.inboxId}@lead.example>`;

/** The Message-IDs of the inbound messages stored for the inbox, with how often each is there. */
export async function storedInbound(ds: DataSource, f: MailboxFixture): Promise<Map<string, number>> {
  const rows = (await withTenant(ds, f.tenantId, (m) =>
    m.query("SELECT message_id, count(*)::int AS n FROM messages WHERE inbox_id = $1 AND direction = 'inbound' GROUP BY message_id", [f.inboxId]),
  )) as { message_id: string; n: number }[];
  return new Map(rows.map((r) => [r.message_id, r.n]));
}

export interface CheckpointRow {
  uid_validity: string | null;
  last_uid: number;
  stored: number;
  error: string | null;
}

export async function checkpointOf(ds: DataSource, f: MailboxFixture): Promise<CheckpointRow | undefined> {
  const [row] = (await withTenant(ds, f.tenantId, (m) =>
    m.query('SELECT uid_validity::text, last_uid::int, stored, error FROM inbox_mailboxes WHERE inbox_id = $1', [f.inboxId]),
  )) as CheckpointRow[];
  return row;
}

/** Every message of the user's INBOX with its flags, and the user's folders: what a read-only reader must leave as it is. */
export async function mailboxSnapshot(gm: TestGreenMail, user: GreenMailUser): Promise<{ folders: string[]; messages: [number, string[]][] }> {
  const admin = await gm.connect(user);
  try {
    const folders = (await admin.list()).map((f) => f.path).sort();
    const lock = await admin.getMailboxLock('INBOX', { readOnly: true });
    try {
      const all = await admin.fetchAll('1:*', { uid: true, flags: true }, { uid: true });
      return { folders, messages: all.map((m) => [m.uid, [...(m.flags ?? [])].sort()] as [number, string[]]).sort((a, b) => a[0] - b[0]) };
    } finally {
      lock.release();
    }
  } finally {
    await admin.logout().catch(() => admin.close());
  }
}
