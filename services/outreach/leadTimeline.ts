// A lead's timeline and its conversations (`GET /api/leads/:id?expand=…`),
// told from rows that already exist — enrollments and messages — with no
// table of events of their own: enrolled at the enrollment's creation, each
// message at its send or arrival, an enrollment's end at its last change,
// and the lead's status (replied, bounced, unsubscribed) at the lead's last
// change. Times of ends are the rows' `updated_at`: what ends an enrollment
// or changes a lead's status is its last write.
import { type EntityManager } from 'typeorm';
import { listLeadConversations } from '../../db/conversations';
import { type LeadEnrollmentRow } from '../../db/enrollments';
import { type LeadRow } from '../../db/leads';
import { listLeadMessageEvents } from '../../db/messages';
import { ENDED_ENROLLMENT_STATUSES } from '../../workflows/enrollLead.contract';
import { conversationOut } from './conversations';

type Kind = 'enrolled' | 'sent' | 'received' | 'enrollment_ended' | 'lead_status';

export interface ActivityItem {
  at: Date;
  kind: Kind;
  campaignId: string | null;
  campaignName: string | null;
  enrollmentId: string | null;
  messageId: string | null;
  conversationId: string | null;
  step: number | null;
  status: string | null;
  subject: string | null;
  autoReply: boolean;
}

/** Among events at the same instant, the order they happen in. */
const RANK: Record<Kind, number> = { enrolled: 0, sent: 1, received: 2, enrollment_ended: 3, lead_status: 4 };
const ENDED = new Set<string>(ENDED_ENROLLMENT_STATUSES);

const blank = { campaignId: null, campaignName: null, enrollmentId: null, messageId: null, conversationId: null, step: null, status: null, subject: null };

export async function leadActivity(m: EntityManager, lead: LeadRow, enrollments: LeadEnrollmentRow[]): Promise<ActivityItem[]> {
  const campaignNames = new Map(enrollments.map((e) => [e.campaign_id, e.campaign_name]));
  const items: ActivityItem[] = [];
  for (const e of enrollments) {
    const campaign = { campaignId: e.campaign_id, campaignName: e.campaign_name, enrollmentId: e.id };
    items.push({ ...blank, ...campaign, at: e.created_at, kind: 'enrolled', status: null, autoReply: false });
    if (ENDED.has(e.status)) items.push({ ...blank, ...campaign, at: e.updated_at, kind: 'enrollment_ended', status: e.status, autoReply: false });
  }
  for (const msg of await listLeadMessageEvents(m, lead.id)) {
    items.push({
      ...blank,
      at: msg.at,
      kind: msg.direction === 'outbound' ? 'sent' : 'received',
      campaignId: msg.campaign_id,
      campaignName: msg.campaign_id ? (campaignNames.get(msg.campaign_id) ?? null) : null,
      messageId: msg.id,
      conversationId: msg.conversation_id,
      step: msg.step,
      status: msg.status,
      subject: msg.subject,
      autoReply: msg.auto_reply,
    });
  }
  if (lead.status !== 'active') items.push({ ...blank, at: lead.updated_at, kind: 'lead_status', status: lead.status, autoReply: false });
  return items.sort((x, y) => x.at.getTime() - y.at.getTime() || RANK[x.kind] - RANK[y.kind]);
}

export async function leadConversations(m: EntityManager, leadId: string) {
  return (await listLeadConversations(m, leadId)).map(conversationOut);
}
