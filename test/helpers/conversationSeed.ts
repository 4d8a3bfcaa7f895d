// A conversation for the console's browser tests, written by the send path's
// own records (db/messages.ts, db/emailEvents.ts) with the owner's connection
// inside the tenant's RLS context: the campaign's first message to a lead,
// and — when asked — the lead's reply, which makes it unread.
import { type DataSource } from 'typeorm';
import { recordReplyOrBounce } from '../../db/emailEvents';
import { newId } from '../../db/ids';
import { insertSendingMessage } from '../../db/messages';
import { withTenant } from '../../db/tenantContext';

export interface ConversationSeed {
  customerId: string;
  inboxId: string;
  campaignId: string;
  leadId: string;
}

/** Answers the conversation's id. The lead must be in the campaign (seedOutreach imports it). */
export async function seedConversation(
  owner: DataSource,
  tenantId: string,
  s: ConversationSeed,
  opts: { subject?: string; reply?: string } = {},
): Promise<string> {
  const subject = opts.subject ?? 'Hello Lee';
  return withTenant(owner, tenantId, async (m) => {
    const [enrollment] = (await m.query('SELECT id FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [s.campaignId, s.leadId])) as { id: string }[];
    if (!enrollment) throw new Error(`lead ${s.leadId} is not in campaign ${s.campaignId}`);
    const sent = newId('msg');
    await insertSendingMessage(
      m,
      {
        id: sent,
        customerId: s.customerId,
        campaignId: s.campaignId,
        enrollmentId: enrollment.id,
        leadId: s.leadId,
        inboxId: s.inboxId,
        step: 1,
        messageId: `<${sent}@agency.example>`,
        scheduledAt: new Date(),
      },
      { subject, body: 'Hi Lee.\nA short note about <b>your</b> plans.', unsubscribeToken: `u_${sent}` },
    );
    await m.query("UPDATE messages SET status = 'accepted', sent_at = now() WHERE id = $1", [sent]);
    if (opts.reply !== undefined) {
      const reply = newId('msg');
      await recordReplyOrBounce(
        m,
        tenantId,
        { customer_id: s.customerId, campaign_id: s.campaignId, enrollment_id: enrollment.id, lead_id: s.leadId, inbox_id: s.inboxId },
        { inboundId: reply, inboundMessageId: `<${reply}@lead.example>`, subject: `Re: ${subject}`, body: opts.reply, outcome: 'replied', stops: false },
      );
    }
    const [row] = (await m.query('SELECT conversation_id FROM messages WHERE id = $1', [sent])) as { conversation_id: string }[];
    return row!.conversation_id;
  });
}
