// `npm run mail:answer -- <file in .data/mail-sink> [--text "…"]`: answers a
// mail that a campaign sent into the local sink, as its lead would, through
// the embedded default's local mail server (GreenMail, started by `npm
// start`). Point the sending inbox's IMAP settings at that server (host
// 127.0.0.1, GREENMAIL_IMAP_PORT, no TLS, user = the inbox's address, any
// password) and its mailbox reader stores the answer in the lead's
// conversation, stopping the sequence as a reply does.
import { parseArgs } from 'node:util';
import { config } from '../lib/config';
import { answerSunkMail } from './lib/mailAnswer';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { text: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: npm run mail:answer -- <file in .data/mail-sink> [--text "the answer"]');
  const c = config();
  if (c.GREENMAIL_SMTP_PORT === 0) throw new Error('GREENMAIL_SMTP_PORT is 0: the local mail server is turned off');
  const sent = await answerSunkMail({ file, smtpPort: c.GREENMAIL_SMTP_PORT, ...(values.text ? { text: values.text } : {}) });
  console.log(`answered ${sent.inReplyTo}: ${sent.from} → ${sent.to} (${sent.subject}), through 127.0.0.1:${c.GREENMAIL_SMTP_PORT}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
