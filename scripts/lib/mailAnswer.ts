// Answers a mail the local sink kept (.data/mail-sink/*.eml) as its recipient
// would: from the recipient's address, to the sender's Reply-To (else From),
// with In-Reply-To and References naming the sent mail, through the local
// mail server's SMTP (GreenMail). The answer lands in the sending inbox's
// local mailbox, where the inbox's mailbox reader finds it over IMAP.
import fs from 'node:fs';
import { simpleParser, type AddressObject } from 'mailparser';
import nodemailer from 'nodemailer';

export interface SentAnswer {
  from: string;
  to: string;
  subject: string;
  inReplyTo: string;
  references: string[];
}

function firstAddress(field: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list
    .flatMap((a) => a.value)
    .find((v) => v.address)
    ?.address?.toLowerCase();
}

export async function answerSunkMail(opts: { file: string; smtpPort: number; host?: string; text?: string }): Promise<SentAnswer> {
  const parsed = await simpleParser(fs.readFileSync(opts.file));
  const inReplyTo = parsed.messageId;
  const lead = firstAddress(parsed.to);
  const inbox = firstAddress(parsed.replyTo) ?? firstAddress(parsed.from);
  if (!inReplyTo || !lead || !inbox) throw new Error(`${opts.file} has no Message-ID, To or From: not a mail the sink kept`);
  const earlier = typeof parsed.references === 'string' ? [parsed.references] : (parsed.references ?? []);
  const references = [...earlier.filter((r) => r !== inReplyTo), inReplyTo];
  const subject = /^re:/i.test(parsed.subject ?? '') ? parsed.subject! : `Re: ${parsed.subject ?? ''}`.trim();
  const quoted = (parsed.text ?? '')
    .split(/\r?\n/)
    .map((l) => `> ${l}`)
    .join('\n');
  const transport = nodemailer.createTransport({ host: opts.host ?? '127.0.0.1', port: opts.smtpPort, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({
      from: lead,
      to: inbox,
      subject,
      inReplyTo,
      references,
      text: `${opts.text ?? 'Thanks — yes, I am interested. Tell me more.'}\n\n${quoted}\n`,
    });
  } finally {
    transport.close();
  }
  return { from: lead, to: inbox, subject, inReplyTo, references };
}
