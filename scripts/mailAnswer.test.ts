// `npm run mail:answer` against GreenMail run as `npm start` runs it (any
// login): a mail the local sink kept is answered from its lead, and the
// answer — threaded to the sent mail — is in the sending inbox's mailbox over IMAP.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { readMailbox } from '../activities/providers/imapMailbox';
import { startGreenMail, type TestGreenMail } from '../test/helpers/greenmail';
import { TEST_OUTBOUND } from '../test/helpers/smtp';
import { ROOT } from './lib/tools';

jest.setTimeout(60_000);

let gm: TestGreenMail;
let dir: string;

beforeAll(async () => {
  gm = await startGreenMail({ authDisabled: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-mail-answer-'));
});

afterAll(async () => {
  await gm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('answers a sunk mail from its lead into the inbox, threaded, readable over IMAP with any password', async () => {
  const sent = path.join(dir, 'sent.eml');
  fs.writeFileSync(
    sent,
    [
      'From: Agency Sales <sales@agency.local>',
      'To: Lena Lead <lena@lead.example>',
      'Subject: Hello Lena',
      'Message-ID: <msg_1.tenant@agency.local>',
      'References: <earlier@agency.local>',
      'Date: Sat, 05 Dec 2026 10:00:00 +0000',
      '',
      'A first note for Lena.',
      '',
    ].join('\r\n'),
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'scripts', 'mailAnswer.ts'), sent, '--text', 'Yes, Tuesday.'],
    {
      cwd: ROOT,
      env: { ...process.env, GREENMAIL_SMTP_PORT: String(gm.smtpPort) },
      timeout: 30_000,
    },
  );
  expect(stdout).toContain('answered <msg_1.tenant@agency.local>: lena@lead.example → sales@agency.local');

  // The inbox's IMAP settings as `npm start`'s server takes them: its own address and any password.
  const settings = { host: gm.host, port: gm.imapPort, secure: false, user: 'sales@agency.local', password: 'anything' };
  let batch = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0 });
  for (let i = 0; i < 50 && batch.messages.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    batch = await readMailbox(settings, TEST_OUTBOUND, { afterUid: 0 });
  }
  expect(batch.messages).toHaveLength(1);
  expect(batch.messages[0]).toMatchObject({
    from: { address: 'lena@lead.example' },
    to: [{ address: 'sales@agency.local' }],
    subject: 'Re: Hello Lena',
    inReplyTo: '<msg_1.tenant@agency.local>',
    references: ['<earlier@agency.local>', '<msg_1.tenant@agency.local>'],
  });
  expect(batch.messages[0]!.text).toContain('Yes, Tuesday.');
  expect(batch.messages[0]!.text).toContain('> A first note for Lena.');
});

it('refuses a file that is not a sent mail', async () => {
  const junk = path.join(dir, 'junk.eml');
  fs.writeFileSync(junk, 'Subject: nothing\r\n\r\nno headers to answer\r\n');
  const run = promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'mailAnswer.ts'), junk], {
    cwd: ROOT,
    env: { ...process.env, GREENMAIL_SMTP_PORT: String(gm.smtpPort) },
    timeout: 30_000,
  });
  await expect(run).rejects.toMatchObject({ stderr: expect.stringContaining('not a mail the sink kept') });
});
