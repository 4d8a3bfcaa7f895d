// Sending providers behind one interface (spec §5.3): SMTP through nodemailer
// (a real SMTP conversation) and a Smartlead-style HTTP API. Each send carries
// the key of its message row — (tenant, enrollment, step) — as the RFC 5322
// Message-ID, and as the Idempotency-Key where the provider honours one.
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  /** `<…>` Message-ID, derived from the send key. */
  messageId: string;
  /** The send key: `{tenant}/{enrollment}/{step}`. */
  idempotencyKey: string;
  from: { email: string; name: string };
  to: string;
  subject: string;
  text: string;
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
export const rejected = (message: string) => ApplicationFailure.nonRetryable(message, 'send_rejected');

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string | null;
  password?: string | null;
}

export function smtpProvider(settings: SmtpSettings): MailProvider {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
    // A loopback sink has no certificate worth checking; real relays do.
    ...(isLoopback(settings.host) ? { tls: { rejectUnauthorized: false } } : {}),
  });
  return {
    idempotent: false,
    async send(mail) {
      try {
        const info = await transport.sendMail({
          messageId: mail.messageId,
          from: { name: mail.from.name, address: mail.from.email },
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          headers: mail.headers,
        });
        return { providerMessageId: info.messageId };
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        if (code !== undefined && code >= 500) throw rejected(`the SMTP server refused the message (${code})`);
        throw new Error(`SMTP send failed: ${(err as Error).message}`, { cause: err }); // retryable: nothing was accepted
      } finally {
        transport.close();
      }
    },
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
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
