// The Message-ID headers Tenantflow puts on the mail it sends, and the keys
// it stores inbound mail under (docs/architecture.md, "Conversations"). A
// sequence step's Message-ID names its enrollment and step (sendMessageId in
// workflows/enrollLead.contract.ts); a manual message's names the message
// itself. Both name the tenant, so a reply that quotes one can be routed to
// its tenant from the header alone. Pure functions for every layer (the key
// of an inbound mail without a Message-ID is a digest: db/inboundMail.ts).

const TENANT = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

const domainOf = (fromEmail: string) => fromEmail.split('@')[1] ?? 'tenantflow.invalid';

/** A manual (or automation) message's Message-ID: `<{messageRowId}.{tenant}@{sender's domain}>`. */
export function manualMessageId(tenantId: string, messageRowId: string, fromEmail: string): string {
  return `<${messageRowId}.${tenantId}@${domainOf(fromEmail)}>`;
}

const MANUAL_ID = new RegExp(`^<?(msg_[0-9a-z]{26})\\.(${TENANT})@[^>\\s]+>?$`);

/** Reads a manual message's Message-ID back: its tenant and message row. */
export function parseManualMessageId(messageId: string): { tenantId: string; messageRowId: string } | undefined {
  const m = MANUAL_ID.exec(messageId.trim());
  return m ? { messageRowId: m[1]!, tenantId: m[2]! } : undefined;
}

const ANY_OWN_ID = new RegExp(`<?(?:enr_[0-9a-z]{26}\\.\\d{1,4}|msg_[0-9a-z]{26})\\.${TENANT}@[A-Za-z0-9.-]+>?`, 'g');

/**
 * Every Message-ID of ours quoted anywhere in a text (a reply whose client
 * dropped In-Reply-To and References often still quotes the headers), in
 * angle brackets, first seen first.
 */
export function ownMessageIdsIn(text: string): string[] {
  const found = new Set<string>();
  for (const m of text.matchAll(ANY_OWN_ID)) found.add(`<${m[0].replace(/^<|>$/g, '')}>`);
  return [...found];
}

/** The plus address that routes a reply to a conversation: `local+reply-{conversation}@domain`. */
export function replyAddress(fromEmail: string, conversationId: string): string {
  const [local, domain] = fromEmail.split('@');
  return `${local}+reply-${conversationId}@${domain}`;
}

/** The conversation a plus address names, if any. */
export function conversationOfAddress(address: string): string | undefined {
  return /^[^@+\s]+\+reply-(conv_[0-9a-z]{26})@/i.exec(address.trim())?.[1]?.toLowerCase();
}

/** A Message-ID as stored: trimmed and in one pair of angle brackets (how the webhook and the mailbox reader key the same reply alike). */
export function normalizeMessageId(value: string): string {
  return `<${value.trim().replace(/^<+|>+$/g, '')}>`;
}
