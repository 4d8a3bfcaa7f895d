// Mail the platform itself sends (invites): through SMTP_URL when set,
// otherwise the embedded default's local sink. Invite links go to the invited
// address and never back to the inviter, so no answer tells the inviter
// whether that address already has an account (spec §3.11).
import nodemailer from 'nodemailer';

export interface PlatformMail {
  to: string;
  subject: string;
  text: string;
}

export type PlatformMailer = (mail: PlatformMail) => Promise<void>;

export function smtpPlatformMailer(opts: { url: string; from: string }): PlatformMailer {
  const transport = nodemailer.createTransport(opts.url);
  return async (mail) => {
    await transport.sendMail({ from: opts.from, to: mail.to, subject: mail.subject, text: mail.text });
  };
}
