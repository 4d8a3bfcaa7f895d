// Sending providers behind one interface (docs/providers.md): SMTP through
// nodemailer (a real SMTP conversation) and a Smartlead-style HTTP API. Each send carries
// the key of its message row — (tenant, enrollment, step) — as the RFC 5322
// Message-ID, and as the Idempotency-Key where the provider honours one.
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { checkOutbound, type OutboundPolicy } from '../../lib/outbound';
import { SEND_REJECTED } from '../../workflows/enrollLead.contract';

export interface OutgoingMail {
  /** `<…>` Message-ID, derived from the send key. */
  messageId: string;
  /** The send key: `{tenant}/{enrollment}/{step}`. */
  idempotencyKey: string;
  from: { email: string; name: string };
  to: string;
  subject: string;
  text: string;
  /** An HTML alternative (a tracked campaign's: docs/analytics.md, "Tracking"). */
  html?: string;
  headers: Record<string, string>;
}

export interface MailProvider {
  /**
   * True when a repeated send with the same idempotency key is a no-op at the
   * provider. Otherwise (SMTP) an attempt that died mid-send is never repeated.
   */
  readonly idempotent: boolean;
  send(mail: OutgoingMail): Promise<{ providerMessageId: string }>;
  close?(): void;
}

/** A refusal that retrying will not change (SMTP 5xx, a 4xx from an HTTP API). */
export const rejected = (message: string) => ApplicationFailure.nonRetryable(message, SEND_REJECTED);

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string | null;
  password?: string | null;
}

/** What a tenant is told when its SMTP host cannot be used: never which network detail failed. */
export const SMTP_UNREACHABLE = 'the SMTP server could not be reached or did not complete the conversation';

export function smtpProvider(settings: SmtpSettings, policy: OutboundPolicy): MailProvider {
  return {
    idempotent: false,
    async send(mail) {
      // Resolved and checked on every send, then connected to by address, so
      // the host cannot be re-pointed at an internal address after the check.
      const target = await checkOutbound(policy, settings.host, settings.port);
      if (!target.ok) throw rejected('the SMTP host is not allowed: it must be a public mail server');
      const transport = nodemailer.createTransport({
        host: target.address,
        port: settings.port,
        secure: settings.secure,
        ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
        // Certificates are checked against the configured name; only an
        // operator-allow-listed host (the local sink) may go unchecked.
        tls: { servername: settings.host, ...(target.allowListed ? { rejectUnauthorized: false } : {}) },
      });
      try {
        const info = await transport.sendMail({
          messageId: mail.messageId,
          from: { name: mail.from.name, address: mail.from.email },
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          ...(mail.html !== undefined ? { html: mail.html } : {}),
          headers: mail.headers,
        });
        return { providerMessageId: info.messageId };
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        if (code !== undefined && code >= 500) throw rejected(`the SMTP server refused the message (${code})`);
        if (code !== undefined) throw new Error(`the SMTP server deferred the message (${code})`, { cause: err });
        throw new Error(SMTP_UNREACHABLE, { cause: err }); // retryable: nothing was accepted
      } finally {
        transport.close();
      }
    },
  };
}

/**
 * The Smartlead-style send call (docs/providers.md): `POST /messages` with the
 * client's API key and an `Idempotency-Key`; a repeated key returns the first
 * message instead of sending again.
 */
export function smartleadProvider(opts: { baseUrl: string; apiKey: string; timeoutMs?: number }): MailProvider {
  return {
    idempotent: true,
    async send(mail) {
      const url = new URL(`${opts.baseUrl.replace(/\/$/, '')}/messages`);
      url.searchParams.set('api_key', opts.apiKey);
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': mail.idempotencyKey },
          body: JSON.stringify({
            from_email: mail.from.email,
            from_name: mail.from.name,
            to_email: mail.to,
            subject: mail.subject,
            body: mail.text,
            ...(mail.html !== undefined ? { html_body: mail.html } : {}),
            message_id: mail.messageId,
            headers: mail.headers,
          }),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
        });
      } catch (err) {
        throw new Error(`provider unreachable: ${(err as Error).message}`, { cause: err });
      }
      if (res.status === 429 || res.status >= 500) throw new Error(`provider answered ${res.status}`);
      if (!res.ok) throw rejected(`the provider refused the message (${res.status})`);
      const body = (await res.json()) as { id?: string | number };
      return { providerMessageId: String(body.id ?? '') };
    },
  };
}
