// The mailbox reader against a real IMAP server (GreenMail): it reads what
// lies above a UID checkpoint, in batches, parses replies, auto-replies and
// bounces, reports UIDVALIDITY, and leaves the mailbox exactly as it found it.
import { ApplicationFailure } from '@temporalio/common';
import { NO_EXCEPTIONS } from '../../lib/outbound';
import { startGreenMail, type TestGreenMail } from '../../test/helpers/greenmail';
import { TEST_OUTBOUND } from '../../test/helpers/smtp';
import { MAILBOX_REJECTED, openMailbox, readMailbox, type ImapSettings } from './imapMailbox';

const INBOX_USER = { email: 'inbox@agency.test', password: 'app-password-1' };

const reply = [
  'From: Lena Lead <Lena@lead.example>',
  'To: Agency Inbox <inbox@agency.test>',
  'Subject: Re: Quick question',
  'Date: Sat, 05 Dec 2026 10:00:00 +0000',
  'Message-ID: <reply-1@lead.example>',
  'In-Reply-To: <msg_1.t1@agency.test>',
  'References: <root-0@agency.test>',
  ' <msg_1.t1@agency.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="MIX"',
  '',
  '--MIX',
  'Content-Type: multipart/alternative; boundary="ALT"',
  '',
  '--ALT',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Yes, let us talk on Tuesday.',
  '--ALT',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Yes, let us talk on <b>Tuesday</b>.</p><img src="https://tracker.example/p.png"><script>alert(1)</script>',
  '--ALT--',
  '--MIX',
  'Content-Type: application/pdf; name="deck.pdf"',
  'Content-Disposition: attachment; filename="deck.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('%PDF-1.4 pretend deck').toString('base64'),
  '--MIX--',
  '',
].join('\r\n');

const autoReply = [
  'From: Otto Office <otto@lead.example>',
  'To: inbox@agency.test',
  'Subject: Automatic reply: Quick question',
  'Date: Sat, 05 Dec 2026 10:05:00 +0000',
  'Message-ID: <ooo-1@lead.example>',
  'In-Reply-To: <msg_2.t1@agency.test>',
  'Auto-Submitted: auto-replied',
  'X-Autoreply: yes',
  '',
  'I am out of the office until Monday.',
  '',
].join('\r\n');

const bounce = [
  'From: Mail Delivery System <MAILER-DAEMON@mx.lead.example>',
  'To: inbox@agency.test',
  'Subject: Undelivered Mail Returned to Sender',
  'Date: Sat, 05 Dec 2026 10:10:00 +0000',
  'Message-ID: <dsn-1@mx.lead.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status;',
  '  boundary="REPORT"',
  '',
  '--REPORT',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'Your message could not be delivered to one or more recipients.',
  '',
  '--REPORT',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; mx.lead.example',
  'Arrival-Date: Sat, 5 Dec 2026 10:09:58 +0000',
  '',
  'Final-Recipient: rfc822; gone@lead.example',
  'Original-Recipient: rfc822;Gone@Lead.example',
  'Action: failed',
  'Status: 5.1.1',
  'Diagnostic-Code: smtp; 550 5.1.1 <gone@lead.example>:',
  '  Recipient address rejected: User unknown',
  '',
  '--REPORT',
  'Content-Type: text/rfc822-headers',
  '',
  'From: inbox@agency.test',
  'To: gone@lead.example',
  'Subject: Quick question',
  'Message-ID: <msg_3.t1@agency.test>',
  '',
  '--REPORT--',
  '',
].join('\r\n');

let gm: TestGreenMail;
let settings: ImapSettings;

beforeAll(async () => {
  gm = await startGreenMail({ users: [INBOX_USER] });
  settings = { host: '127.0.0.1', port: gm.imapPort, secure: false, user: INBOX_USER.email, password: INBOX_USER.password };
});

afterAll(async () => {
  await gm?.stop();
});

/** Every message's flags, as a second (admin) connection sees them. */
async function snapshot(mailbox = 'INBOX') {
  const client = await gm.connect(INBOX_USER);
  try {
    const info = await client.mailboxOpen(mailbox, { readOnly: true });
    const messages = info.exists ? await client.fetchAll('1:*', { uid: true, flags: true }, { uid: true }) : [];
    await client.mailboxClose();
    return { exists: info.exists, uidValidity: info.uidValidity, flags: messages.map((m) => ({ uid: m.uid, flags: [...(m.flags ?? [])].sort() })) };
  } finally {
    await client.logout();
  }
}

describe('reading a mailbox above a UID checkpoint', () => {
  let lastUid = 0;
  let uidValidity = '';

  it('reads a reply, an auto-reply and a bounce from checkpoint 0, in batches, parsed', async () => {
    for (const raw of [reply, autoReply, bounce]) await gm.append(INBOX_USER, raw);

    const first = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0, limit: 2 });
    expect(first.messages).toHaveLength(2);
    expect(first.more).toBe(true);
    const second = await readMailbox(settings, TEST_OUTBOUND, { afterUid: first.messages[1]!.uid, limit: 2 });
    expect(second.messages).toHaveLength(1);
    expect(second.more).toBe(false);
    expect(second.uidValidity).toBe(first.uidValidity);

    const all = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0 });
    expect(all.messages.map((m) => m.uid)).toEqual([...first.messages, ...second.messages].map((m) => m.uid));
    expect(all.uidValidity).toMatch(/^\d+$/);
    expect(all.exists).toBe(3);
    const [r, ooo, dsn] = all.messages;

    expect(r).toMatchObject({
      messageId: '<reply-1@lead.example>',
      inReplyTo: '<msg_1.t1@agency.test>',
      references: ['<root-0@agency.test>', '<msg_1.t1@agency.test>'],
      from: { address: 'lena@lead.example', name: 'Lena Lead' },
      to: [{ address: 'inbox@agency.test', name: 'Agency Inbox' }],
      subject: 'Re: Quick question',
      date: '2026-12-05T10:00:00.000Z',
      autoSubmitted: false,
      bounce: null,
      truncated: false,
      attachments: [
        { filename: 'deck.pdf', contentType: 'application/pdf', size: '%PDF-1.4 pretend deck'.length, content: Buffer.from('%PDF-1.4 pretend deck') },
      ],
    });
    expect(r!.text.trim()).toBe('Yes, let us talk on Tuesday.');
    // Raw and untrusted: the reader neither sanitises nor drops anything.
    expect(r!.html).toContain('<script>alert(1)</script>');
    expect(r!.html).toContain('https://tracker.example/p.png');
    expect(r!.size).toBe(reply.length);

    expect(ooo).toMatchObject({ messageId: '<ooo-1@lead.example>', inReplyTo: '<msg_2.t1@agency.test>', references: [], autoSubmitted: true, bounce: null });

    expect(dsn).toMatchObject({
      messageId: '<dsn-1@mx.lead.example>',
      autoSubmitted: false,
      bounce: {
        failed: true,
        originalMessageId: '<msg_3.t1@agency.test>',
        recipients: [
          {
            recipient: 'gone@lead.example',
            finalRecipient: 'gone@lead.example',
            action: 'failed',
            status: '5.1.1',
            diagnosticCode: 'smtp; 550 5.1.1 <gone@lead.example>: Recipient address rejected: User unknown',
          },
        ],
      },
    });
    lastUid = dsn!.uid;
    uidValidity = all.uidValidity;
  });

  it('reads nothing above the last UID', async () => {
    const batch = await readMailbox(settings, TEST_OUTBOUND, { afterUid: lastUid });
    expect(batch.messages).toEqual([]);
    expect(batch.more).toBe(false);
    expect(batch.uidValidity).toBe(uidValidity);
  });

  it('reads only the new message once one more arrives (here over SMTP)', async () => {
    await gm.send({
      from: 'Lena Lead <lena@lead.example>',
      to: INBOX_USER.email,
      subject: 'One more thing',
      text: 'Also: bring the deck.',
      messageId: '<reply-2@lead.example>',
      inReplyTo: '<reply-1@lead.example>',
      references: ['<msg_1.t1@agency.test>', '<reply-1@lead.example>'],
    });
    const mailbox = await openMailbox(settings, TEST_OUTBOUND);
    try {
      expect(mailbox.uidValidity).toBe(uidValidity);
      const batch = await mailbox.read({ afterUid: lastUid });
      expect(batch.messages).toHaveLength(1);
      expect(batch.messages[0]).toMatchObject({
        messageId: '<reply-2@lead.example>',
        inReplyTo: '<reply-1@lead.example>',
        references: ['<msg_1.t1@agency.test>', '<reply-1@lead.example>'],
        subject: 'One more thing',
      });
      expect(batch.messages[0]!.uid).toBeGreaterThan(lastUid);
      expect(batch.messages[0]!.text.trim()).toBe('Also: bring the deck.');
    } finally {
      await mailbox.close();
    }
  });

  it('leaves the mailbox as it found it: nothing seen, flagged, moved or deleted', async () => {
    const before = await snapshot();
    expect(before.exists).toBe(4);
    await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0 });
    await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0, limit: 1 });
    const after = await snapshot();
    expect(after).toEqual(before);
    // \Recent is the server's per-session marker, not a flag anyone set.
    for (const message of after.flags) expect(message.flags.filter((f) => f !== '\\Recent')).toEqual([]);
  });
});

describe('what a reader refuses', () => {
  it('refuses loopback without the operator allow-list (the outbound policy)', async () => {
    const err = await readMailbox(settings, NO_EXCEPTIONS, { afterUid: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(MAILBOX_REJECTED);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('answers wrong credentials with a rejection that retrying will not change', async () => {
    const err = await readMailbox({ ...settings, password: 'wrong' }, TEST_OUTBOUND, { afterUid: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(MAILBOX_REJECTED);
    expect((err as Error).message).not.toContain('wrong');
  });
});

describe('UIDVALIDITY', () => {
  it('reports a new UIDVALIDITY when the mailbox is deleted and recreated', async () => {
    const folder = 'Replies';
    const admin = await gm.connect(INBOX_USER);
    try {
      await admin.mailboxCreate(folder);
      await gm.append(INBOX_USER, reply, { mailbox: folder });
      const before = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0, mailbox: folder });
      expect(before.messages).toHaveLength(1);

      // GreenMail stamps UIDVALIDITY with the creation second: recreate until it differs.
      let after = before;
      for (let attempt = 0; attempt < 5 && after.uidValidity === before.uidValidity; attempt++) {
        await new Promise((r) => setTimeout(r, 1100));
        await admin.mailboxDelete(folder);
        await admin.mailboxCreate(folder);
        await gm.append(INBOX_USER, autoReply, { mailbox: folder });
        after = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0, mailbox: folder });
      }
      expect(after.uidValidity).not.toBe(before.uidValidity);
      expect(after.messages.map((m) => m.messageId)).toEqual(['<ooo-1@lead.example>']);
    } finally {
      await admin.logout().catch(() => admin.close());
    }
  });

  it('is new after the server restarts (GreenMail keeps its store in memory)', async () => {
    const before = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0, limit: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    await gm.restart();
    const after = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0 });
    expect(after.uidValidity).not.toBe(before.uidValidity);
    expect(after.exists).toBe(0);
    expect(after.messages).toEqual([]);
  });
});
