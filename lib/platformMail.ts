// Mail the platform itself sends (invitations, address verification, dunning):
// through SMTP_URL when set, otherwise the embedded default's local sink.
// Invite links go to the invited address and never back to the inviter, so no
// answer tells the inviter whether that address already has an account (spec
// §3.11).
//
// Whatever a tenant chose (its name, its members' names) is the sender's
// claim, not ours: it never reaches the From header or the subject — the
// From is always PLATFORM_MAIL_FROM, set by the mailer, not by the message —
// and in the body it is plain text of at most 60 characters with anything a
// mail client would turn into a link taken out (docs/security.md, "Identity").
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

export const MAIL_NAME_MAX = 60;

// Anything a mail client may make clickable: a scheme (http:, mailto:, …), an
// address, a www. prefix, or a dotted name ending in letters (evil.example,
// bit.ly). Names are NFKC-normalised first, so full-width dots and letters
// count as the ordinary ones they look like.
const LINK_LIKE = /\S*(?:[a-z][a-z0-9+.-]*:\S|@|www\.|[\p{L}\p{N}-]\.[\p{L}]{2,})\S*/giu;

/** A name someone chose, fit for a mail body: one line of plain text, no link-like words, at most 60 characters. */
export function mailSafeName(name: string | null | undefined, fallback: string): string {
  const cleaned = (name ?? '')
    .normalize('NFKC')
    // Control, format (bidi overrides, zero-width) and line-breaking characters.
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, ' ')
    .replace(LINK_LIKE, ' ')
    .replace(/[<>[\]()"`]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = [...cleaned].slice(0, MAIL_NAME_MAX).join('').trim();
  return cut || fallback;
}

/** An invitation to join a tenant; the link goes to the invited address only. */
export function invitationMail(input: { to: string; tenantName: string; inviterName?: string | null; link: string; expiresAt: Date }): PlatformMail {
  const tenant = mailSafeName(input.tenantName, 'a workspace');
  const inviter = input.inviterName ? mailSafeName(input.inviterName, '') : '';
  const who = inviter ? `${inviter}, of the workspace "${tenant}",` : `The workspace "${tenant}"`;
  return {
    to: input.to,
    subject: 'You are invited to a workspace on Tenantflow',
    text:
      `${who} invited you to join it on Tenantflow.\n\n` +
      `Accept the invitation: ${input.link}\n\n` +
      `It expires on ${input.expiresAt.toISOString()}. If you did not expect it, ignore this message: nothing happens unless you follow the link.`,
  };
}

/** The link that proves an address: whoever follows it chooses the account's password. */
export function verificationMail(input: { to: string; tenantName?: string | null; link: string; expiresAt: Date }): PlatformMail {
  const tenant = input.tenantName ? mailSafeName(input.tenantName, '') : '';
  return {
    to: input.to,
    subject: 'Confirm your address for Tenantflow',
    text:
      `A Tenantflow account${tenant ? ` (workspace "${tenant}")` : ''} was set up with this address.\n\n` +
      `If you expected it, confirm the address and choose your password: ${input.link}\n\n` +
      `Until then the account cannot sign in. The link expires on ${input.expiresAt.toISOString()}. ` +
      'If you did not expect it, ignore this message: nobody can use the account without this link.',
  };
}
