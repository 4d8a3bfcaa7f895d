// An inbound mail as the mailbox reader parses it (activities/providers/
// imapMailbox.ts) and the store threads it (db/inboundMail.ts): plain,
// serialisable data (docs/architecture.md, "Conversations").

export interface MailAddress {
  address: string;
  name: string;
}

/**
 * Bytes of one attachment kept for download (10 MiB). A larger attachment
 * keeps its name, type and size only: a mailbox is not a file store, and a
 * reply's attachments are rarely more than a signature logo or a document.
 */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export interface InboundAttachment {
  filename: string | null;
  contentType: string;
  size: number;
  /** The decoded bytes, when at most MAX_ATTACHMENT_BYTES. */
  content?: Buffer;
}

/** One recipient block of a delivery status notification (RFC 3464). */
export interface DsnRecipient {
  /** Original-Recipient when the report gives it, else Final-Recipient: the address the mail was sent to. */
  recipient: string | null;
  finalRecipient: string | null;
  /** failed | delayed | delivered | relayed | expanded */
  action: string | null;
  status: string | null;
  diagnosticCode: string | null;
}

export interface InboundBounce {
  recipients: DsnRecipient[];
  /** True when any recipient's action is `failed`: a hard bounce. */
  failed: boolean;
  /** Message-ID of the message that bounced, from the report's returned headers or message. */
  originalMessageId: string | null;
}

export interface InboundMail {
  uid: number;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  subject: string;
  /** ISO 8601, from the Date header. */
  date: string | null;
  text: string;
  /** The sender's HTML as received: untrusted, to be sanitised before anyone renders it. */
  html: string | null;
  /** An automatic reply (RFC 3834 Auto-Submitted other than `no`, X-Autoreply, X-Autorespond, Precedence: auto_reply). */
  autoSubmitted: boolean;
  /** Set for a delivery status notification (multipart/report; report-type=delivery-status). */
  bounce: InboundBounce | null;
  attachments: InboundAttachment[];
  /** Size of the whole message on the server, in bytes. */
  size: number;
  /** True when the message was larger than `maxMessageBytes` and only its start was read and parsed. */
  truncated: boolean;
}
