// The Outbox: mail sent for a customer's campaigns, newest first, and — under
// the embedded default — the copy the local SMTP sink received.
import { isId } from '../../db/ids';
import { keysetPage, type ListParams } from '../../db/pagination';
import { notFound } from '../../lib/errors';
import { sinkCopies, sinkCopy, sinkFileBase } from '../../lib/mailSinkFiles';
import { type TenantAccess } from '../context';

export async function listOutbox(a: TenantAccess, customerId: string, list: ListParams, mailSinkDir: string | undefined) {
  const p = await keysetPage<Record<string, unknown>>(a.manager, list, {
    select: `SELECT m.id, m.campaign_id, c.name AS campaign_name, m.step, m.status, m.subject, m.body, m.error, m.sent_at, m.scheduled_at, m.message_id, l.email AS to_email, i.from_email
               FROM messages m JOIN leads l ON l.id = m.lead_id JOIN campaigns c ON c.id = m.campaign_id LEFT JOIN inboxes i ON i.id = m.inbox_id`,
    key: 'm.id',
    order: 'desc',
    where: [
      ['m.customer_id = ?', customerId],
      ["m.direction = 'outbound'", null],
    ],
    search: ['m.subject', 'l.email'],
    idOf: (r) => String(r.id),
  });
  const copies = mailSinkDir ? sinkCopies(mailSinkDir) : undefined;
  return {
    data: p.data.map((r) => ({
      id: r.id,
      campaignId: r.campaign_id,
      campaignName: r.campaign_name,
      step: r.step,
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
  const [m] = isId('msg', id)
    ? ((await a.manager.query("SELECT message_id FROM messages WHERE id = $1 AND customer_id = $2 AND direction = 'outbound'", [id, customerId])) as {
        message_id: string;
      }[])
    : [];
  const raw = m && mailSinkDir ? sinkCopy(mailSinkDir, m.message_id) : undefined;
  if (!m || !raw || !mailSinkDir) throw notFound('message');
  return { id, copies: sinkCopies(mailSinkDir).get(sinkFileBase(m.message_id)) ?? 1, raw };
}
