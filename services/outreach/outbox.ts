// The Outbox: mail sent for a customer — its campaigns' steps and the
// messages written by hand — newest first, and — under
// the embedded default — the copy the local SMTP sink received.
import { isId } from '../../db/ids';
import { findOutboundMessageId, listOutboxPage } from '../../db/messages';
import { type ListParams } from '../../db/pagination';
import { notFound } from '../../lib/errors';
import { sinkCopies, sinkCopy, sinkFileBase } from '../../lib/mailSinkFiles';
import { readMessage } from '../../lib/mime';
import { type TenantAccess } from '../context';

export async function listOutbox(a: TenantAccess, customerId: string, list: ListParams, mailSinkDir: string | undefined) {
  const p = await listOutboxPage(a.manager, customerId, list);
  const copies = mailSinkDir ? sinkCopies(mailSinkDir) : undefined;
  return {
    data: p.data.map((r) => ({
      id: r.id,
      campaignId: r.campaign_id,
      campaignName: r.campaign_name,
      step: r.step,
      origin: r.origin,
      status: r.status,
      from: r.from_email,
      to: r.to_email,
      subject: r.subject,
      body: r.body,
      error: r.error,
      sentAt: r.sent_at,
      scheduledAt: r.scheduled_at,
      // With the local sink: how many copies it received (1, or 0 if it never arrived).
      sinkCopies: copies ? (copies.get(sinkFileBase(String(r.message_id))) ?? 0) : null,
    })),
    nextCursor: p.nextCursor,
  };
}

export async function receivedCopy(a: TenantAccess, customerId: string, id: string, mailSinkDir: string | undefined) {
  const messageId = isId('msg', id) ? await findOutboundMessageId(a.manager, id, customerId) : undefined;
  const raw = messageId !== undefined && mailSinkDir ? sinkCopy(mailSinkDir, messageId) : undefined;
  if (messageId === undefined || !raw || !mailSinkDir) throw notFound('message');
  return { id, copies: sinkCopies(mailSinkDir).get(sinkFileBase(messageId)) ?? 1, raw, ...readMessage(raw) };
}
