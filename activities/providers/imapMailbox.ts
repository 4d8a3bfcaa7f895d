// Reads an inbox's own mailbox over IMAP (docs/providers.md, "IMAP"): strictly
// read-only — the mailbox is opened with EXAMINE and bodies are fetched with
// BODY.PEEK, so nothing is moved, deleted or flagged, not even \Seen. New mail
// is whatever has a UID above the caller's checkpoint; the checkpoint is only
// meaningful under the UIDVALIDITY it was taken with, which every read
// reports. Each message is parsed (mailparser) into a plain, serialisable
// record; storing and threading are the caller's.
import { ApplicationFailure } from '@temporalio/common';
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import { simpleParser, type AddressObject, type HeaderValue, type ParsedMail } from 'mailparser';
import { isIP } from 'node:net';
import { type DsnRecipient, type InboundAttachment, type InboundBounce, type InboundMail, type MailAddress } from '../../lib/inboundMail';
import { MAX_ATTACHMENT_BYTES } from '../../lib/inboundMail';
import { checkOutbound, type OutboundPolicy } from '../../lib/outbound';
import { MAILBOX_REJECTED } from '../../workflows/readMailbox.contract';

export type { DsnRecipient, InboundAttachment, InboundBounce, InboundMail, MailAddress };

export interface ImapSettings {
  host: string;
  port: number;
  /** Implicit TLS (usually port 993). Without it the connection must upgrade with STARTTLS, except to an allow-listed host. */
  secure: boolean;
  user: string;
  password: string;
}

export interface MailboxBatch {
  /** UIDVALIDITY of the mailbox, as a decimal string (it is a 32-bit unsigned number; strings survive JSON). */
  uidValidity: string;
  uidNext: number;
  exists: number;
  /** Messages with a UID above the checkpoint, oldest first, at most `limit`. */
  messages: InboundMail[];
  /** True when more messages above the checkpoint remain after this batch. */
  more: boolean;
}

export interface ReadOptions {
  /** The checkpoint: only messages with a greater UID are read. 0 reads the whole mailbox. */
  afterUid: number;
  /** Most messages per batch. */
  limit?: number;
  /** Bytes of a message read at most; the rest is left on the server. */
  maxMessageBytes?: number;
  /** Bytes of a batch at most, by the sizes the server reports (RFC822.SIZE); a batch holds at least one message. */
  maxBatchBytes?: number;
  /** Called as each message arrives and as each is parsed (the caller's heartbeat: a large batch takes a while). */
  onMessage?: () => void;
}

export interface OpenMailbox {
  uidValidity: string;
  uidNext: number;
  exists: number;
  read(opts: ReadOptions): Promise<MailboxBatch>;
  close(): Promise<void>;
}

export { MAILBOX_REJECTED };

/** What a tenant is told when its IMAP server cannot be used: never which network detail failed. */
export const IMAP_UNREACHABLE = 'the IMAP server could not be reached or did not complete the conversation';

const DEFAULT_LIMIT = 50;
const DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024;

/**
 * Connects under the outbound policy and opens `mailbox` read-only. The
 * host is resolved and checked, then connected to by address, as SMTP is
 * (activities/providers/mail.ts), so DNS cannot re-point it at an internal
 * address after the check.
 */
export async function openMailbox(settings: ImapSettings, policy: OutboundPolicy, opts: { mailbox?: string } = {}): Promise<OpenMailbox> {
  const target = await checkOutbound(policy, settings.host, settings.port);
  if (!target.ok) {
    // A name that does not resolve now may resolve later (a DNS outage): retried; an internal address never is.
    if (target.reason === 'unresolved') throw new Error(`the IMAP host ${settings.host} did not resolve`);
    throw ApplicationFailure.nonRetryable('the IMAP host is not allowed: it must be a public mail server', MAILBOX_REJECTED);
  }
  const named = isIP(settings.host.replace(/^\[(.*)\]$/, '$1')) === 0;
  const client = new ImapFlow({
    host: target.address,
    port: settings.port,
    secure: settings.secure,
    ...(named ? { servername: settings.host } : {}),
    // Credentials never cross the network in clear text, except to the
    // operator's allow-listed local server (the embedded default's).
    ...(settings.secure || target.allowListed ? {} : { doSTARTTLS: true }),
    // Certificates are checked against the configured name; only an
    // allow-listed host may go unchecked.
    tls: target.allowListed ? { rejectUnauthorized: false } : {},
    auth: { user: settings.user, pass: settings.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 60_000,
  });
  // A dropped connection surfaces through the pending command; the event
  // itself must not crash the worker.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    if ((err as { authenticationFailed?: boolean }).authenticationFailed) {
      throw ApplicationFailure.nonRetryable('the IMAP server refused the user name or password', MAILBOX_REJECTED);
    }
    if (tlsRefused(err)) {
      throw ApplicationFailure.nonRetryable(
        settings.secure
          ? 'the IMAP server did not complete a TLS handshake with a valid certificate for this host (check the port and TLS setting)'
          : 'the IMAP server did not offer STARTTLS with a valid certificate for this host: use its TLS port',
        MAILBOX_REJECTED,
      );
    }
    throw new Error(IMAP_UNREACHABLE, { cause: err });
  }
  const path = opts.mailbox ?? 'INBOX';
  let info;
  try {
    info = await client.mailboxOpen(path, { readOnly: true });
  } catch (err) {
    client.close();
    // A tagged NO is the server's answer about this mailbox (it does not exist, or this user may not read it), not a network fault.
    if ((err as { responseStatus?: string }).responseStatus === 'NO') {
      throw ApplicationFailure.nonRetryable(`the IMAP server has no mailbox ${path} this user may read`, MAILBOX_REJECTED);
    }
    throw new Error(`the IMAP server could not open ${path}`, { cause: err });
  }
  if (info.readOnly !== true) {
    // EXAMINE answered read-write: refuse rather than risk changing the mailbox.
    client.close();
    throw ApplicationFailure.nonRetryable(`the IMAP server did not open ${path} read-only`, MAILBOX_REJECTED);
  }
  const uidValidity = info.uidValidity.toString();
  return {
    uidValidity,
    uidNext: info.uidNext,
    exists: info.exists,
    read: (readOpts) => readBatch(client, uidValidity, readOpts),
    async close() {
      try {
        // Deselect before LOGOUT: some servers (GreenMail) keep a session's
        // selection alive past LOGOUT otherwise. CLOSE on a mailbox opened
        // read-only (checked above) expunges nothing (RFC 3501 §6.4.2).
        await client.mailboxClose();
        await client.logout();
      } catch {
        client.close();
      }
    },
  };
}

/** Certificate faults Node reports (tls.TLSSocket's verification codes) and handshake faults (ERR_SSL_…): settings to fix, not outages. */
const TLS_REFUSALS = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

function tlsRefused(err: unknown): boolean {
  for (let e = err as { code?: unknown; tlsFailed?: boolean; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    // imapflow marks a STARTTLS the server does not offer (doSTARTTLS required it).
    if (e.tlsFailed) return true;
    if (typeof e.code === 'string' && (TLS_REFUSALS.has(e.code) || e.code.startsWith('ERR_SSL_'))) return true;
  }
  return false;
}

/** Opens the mailbox, reads one batch above the checkpoint and logs out. */
export async function readMailbox(settings: ImapSettings, policy: OutboundPolicy, opts: ReadOptions & { mailbox?: string }): Promise<MailboxBatch> {
  const mailbox = await openMailbox(settings, policy, opts.mailbox ? { mailbox: opts.mailbox } : {});
  try {
    return await mailbox.read(opts);
  } finally {
    await mailbox.close();
  }
}

async function readBatch(client: ImapFlow, uidValidity: string, opts: ReadOptions): Promise<MailboxBatch> {
  const limit = Math.max(1, opts.limit ?? DEFAULT_LIMIT);
  const maxBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const afterUid = Math.max(0, Math.floor(opts.afterUid));
  const status = client.mailbox;
  const uidNext = status ? status.uidNext : 0;
  const exists = status ? status.exists : 0;
  // UIDs are sparse, so the batch comes from a UID SEARCH rather than a
  // range; `n:*` also matches the last message when n is past it, hence the filter.
  const found = (await client.search({ uid: `${afterUid + 1}:*` }, { uid: true })) || [];
  const pending = found.filter((uid) => uid > afterUid).sort((a, b) => a - b);
  let uids = pending.slice(0, limit);
  if (uids.length > 1 && opts.maxBatchBytes !== undefined) uids = await withinBytes(client, uids, opts.maxBatchBytes);
  const messages: InboundMail[] = [];
  if (uids.length) {
    // `source` is fetched as BODY.PEEK[] (imapflow), and the mailbox is open read-only besides.
    const fetched: FetchMessageObject[] = [];
    for await (const message of client.fetch(uids.join(','), { uid: true, size: true, source: { maxLength: maxBytes + 1 } }, { uid: true })) {
      fetched.push(message);
      opts.onMessage?.();
    }
    fetched.sort((a, b) => a.uid - b.uid);
    for (const message of fetched) {
      if (message.uid > afterUid) messages.push(await parseFetched(message, maxBytes));
      opts.onMessage?.();
    }
  }
  return { uidValidity, uidNext, exists, messages, more: pending.length > uids.length };
}

/** The first of `uids` (oldest first) whose sizes add up to at most `maxBytes`; at least one. */
async function withinBytes(client: ImapFlow, uids: number[], maxBytes: number): Promise<number[]> {
  const sizes = new Map((await client.fetchAll(uids.join(','), { uid: true, size: true }, { uid: true })).map((m) => [m.uid, m.size ?? 0]));
  let total = 0;
  let n = 0;
  for (const uid of uids) {
    total += sizes.get(uid) ?? 0;
    if (n > 0 && total > maxBytes) break;
    n++;
  }
  return uids.slice(0, n);
}

async function parseFetched(message: FetchMessageObject, maxBytes: number): Promise<InboundMail> {
  const fetched = message.source ?? Buffer.alloc(0);
  // One byte more than the limit was asked for: getting it means the message is longer.
  const truncated = fetched.length > maxBytes;
  const source = truncated ? fetched.subarray(0, maxBytes) : fetched;
  // RFC822.SIZE is not the same count on every server (GreenMail leaves the
  // header out), so the bytes actually read are its floor.
  const size = Math.max(message.size ?? 0, fetched.length);
  return { ...(await parseMail(source)), uid: message.uid, size, truncated };
}

/** Parses one raw RFC 5322 message into the record the rest of the product stores. */
export async function parseMail(source: Buffer | string): Promise<Omit<InboundMail, 'uid' | 'size' | 'truncated'>> {
  const parsed = await simpleParser(source, { skipImageLinks: true, skipTextToHtml: true });
  // A NUL (an encoded `=00` or `\0` decodes to one) has no place in PostgreSQL
  // text: left in, one such mail would stop its whole batch from being stored.
  return withoutNul({
    messageId: firstMessageId(parsed.messageId),
    inReplyTo: firstMessageId(parsed.inReplyTo),
    references: messageIds(parsed.references),
    from: addresses(parsed.from)[0] ?? null,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    subject: parsed.subject ?? '',
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : null,
    autoSubmitted: isAutoSubmitted(parsed),
    bounce: await deliveryStatus(parsed, source),
    // The bytes travel with the record only within the kept size (lib/inboundMail.ts).
    attachments: parsed.attachments.map((a) => ({
      filename: a.filename ?? null,
      contentType: a.contentType,
      size: a.size,
      ...(a.size <= MAX_ATTACHMENT_BYTES ? { content: a.content } : {}),
    })),
  });
}

/** Every string of a parsed record without NUL characters; bytes (attachment content) are left as they are. */
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => withoutNul(v)) as T;
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutNul(v)])) as T;
}

function messageIds(value: string | string[] | undefined): string[] {
  const all = ([] as string[]).concat(value ?? []).join(' ');
  return all.match(/<[^<>\s]+>/g) ?? [];
}

function firstMessageId(value: string | string[] | undefined): string | null {
  const ids = messageIds(value);
  if (ids[0]) return ids[0];
  const bare = ([] as string[])
    .concat(value ?? [])
    .join(' ')
    .trim();
  return bare ? bare : null;
}

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const out: MailAddress[] = [];
  const walk = (list: { address?: string; name: string; group?: { address?: string; name: string }[] }[]) => {
    for (const entry of list) {
      if (entry.group) walk(entry.group);
      else if (entry.address) out.push({ address: entry.address.toLowerCase(), name: entry.name });
    }
  };
  for (const obj of ([] as AddressObject[]).concat(value ?? [])) walk(obj.value);
  return out;
}

function headerText(value: HeaderValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && 'value' in value && typeof value.value === 'string') return value.value;
  return String(value as unknown);
}

function isAutoSubmitted(parsed: ParsedMail): boolean {
  const autoSubmitted = headerText(parsed.headers.get('auto-submitted'))?.split(';')[0]?.trim().toLowerCase();
  if (autoSubmitted && autoSubmitted !== 'no') return true;
  if (parsed.headers.has('x-autoreply') || parsed.headers.has('x-autorespond')) return true;
  const precedence = headerText(parsed.headers.get('precedence'))?.trim().toLowerCase();
  return precedence === 'auto_reply';
}

/**
 * A delivery status notification (RFC 3464) is multipart/report with
 * report-type=delivery-status. mailparser folds its message/delivery-status
 * part into the text, so that part is read from the raw MIME here.
 */
async function deliveryStatus(parsed: ParsedMail, source: Buffer | string): Promise<InboundBounce | null> {
  const contentType = parsed.headers.get('content-type');
  if (!contentType || typeof contentType !== 'object' || !('value' in contentType)) return null;
  const params = (contentType as { value: string; params?: Record<string, string> }).params ?? {};
  if (String(contentType.value).toLowerCase() !== 'multipart/report') return null;
  if ((params['report-type'] ?? '').toLowerCase() !== 'delivery-status') return null;
  const boundary = params.boundary;
  const statusText = boundary ? deliveryStatusPart(Buffer.isBuffer(source) ? source.toString('latin1') : source, boundary) : null;
  const blocks = statusText ? fieldBlocks(statusText) : [];
  const recipients: DsnRecipient[] = blocks
    .slice(1) // the first block holds the per-message fields
    .filter((f) => f.has('final-recipient') || f.has('original-recipient'))
    .map((f) => {
      const finalRecipient = addressOf(f.get('final-recipient'));
      return {
        recipient: addressOf(f.get('original-recipient')) ?? finalRecipient,
        finalRecipient,
        action: f.get('action')?.toLowerCase() ?? null,
        status: f.get('status') ?? null,
        diagnosticCode: f.get('diagnostic-code') ?? null,
      };
    });
  let originalMessageId: string | null = null;
  const returned = parsed.attachments.find((a) => /^(message\/rfc822|text\/rfc822-headers|message\/global(-headers)?)$/i.test(a.contentType));
  if (returned) {
    const original = await simpleParser(returned.content, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    originalMessageId = firstMessageId(original.messageId);
  }
  return { recipients, failed: recipients.some((r) => r.action === 'failed'), originalMessageId };
}

/** The body of the first message/delivery-status part directly under `boundary`, decoded. */
function deliveryStatusPart(raw: string, boundary: string): string | null {
  const parts = raw.split(`--${boundary}`).slice(1);
  for (const part of parts) {
    if (part.startsWith('--')) break;
    const split = /\r?\n\r?\n/.exec(part);
    if (!split) continue;
    const head = unfold(part.slice(0, split.index));
    const body = part.slice(split.index + split[0].length);
    if (!/^content-type:\s*message\/(global-)?delivery-status\b/im.test(head)) continue;
    const encoding = /^content-transfer-encoding:\s*([\w-]+)/im.exec(head)?.[1]?.toLowerCase();
    if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (encoding === 'quoted-printable') {
      return Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ).toString('utf8');
    }
    return body;
  }
  return null;
}

function unfold(text: string): string {
  return text.replace(/\r?\n[ \t]+/g, ' ');
}

/** Header-style field blocks separated by blank lines; names lower-cased, the first occurrence kept. */
function fieldBlocks(text: string): Map<string, string>[] {
  return unfold(text.replace(/^\s+/, ''))
    .split(/\r?\n\s*\r?\n/)
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split(/\r?\n/)) {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m?.[1] && !fields.has(m[1].toLowerCase())) fields.set(m[1].toLowerCase(), (m[2] ?? '').trim());
      }
      return fields;
    })
    .filter((f) => f.size > 0);
}

/** `rfc822; someone@example.com` → `someone@example.com`. */
function addressOf(value: string | undefined): string | null {
  if (!value) return null;
  const address = (value.includes(';') ? value.slice(value.indexOf(';') + 1) : value).trim().replace(/^<|>$/g, '');
  return address ? address.toLowerCase() : null;
}
