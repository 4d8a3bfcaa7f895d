// The inboxes' daily send slots: one row per (inbox, local day, enrollment,
// step), so an inbox's daily cap is a count of its slots that day and a step
// that already took its slot finds it again. The slot itself is taken in the
// send's one statement (db/sends.ts); these are the reads that decide it.
import { type EntityManager } from 'typeorm';

/** Whether the step has its slot already, the campaign's time zone, and the inboxes it could send from. */
export interface SlotCandidates {
  /** The row's status: an ended one (a stop the workflow was not told of yet) takes no slot. */
  status: string;
  timezone: string;
  /** The sequence version the row pins (a send for another version's plan takes no slot). */
  sequence_version: number | null;
  reserved: boolean;
  /** The enrollment's inbox once it has one (a lead's thread stays on it), else the campaign's inboxes by id. */
  candidates: string[];
}

/** The enrollment's slot question in one statement (undefined when the enrollment is gone). */
export async function readSlotCandidates(m: EntityManager, enrollmentId: string, step: number): Promise<SlotCandidates | undefined> {
  const [e] = (await m.query(
    `SELECT e.status, c.timezone, e.sequence_version,
            EXISTS (SELECT 1 FROM inbox_send_slots s WHERE s.enrollment_id = e.id AND s.step = $2) AS reserved,
            CASE WHEN e.inbox_id IS NOT NULL THEN ARRAY[e.inbox_id]
                 ELSE ARRAY(SELECT ci.inbox_id FROM campaign_inboxes ci WHERE ci.campaign_id = e.campaign_id ORDER BY ci.inbox_id) END AS candidates
       FROM enrollments e JOIN campaigns c ON c.id = e.campaign_id WHERE e.id = $1`,
    [enrollmentId, step],
  )) as SlotCandidates[];
  return e;
}

/** A candidate inbox, its daily cap and the slots it has used on the day. */
export interface InboxDayUsage {
  id: string;
  daily_cap: number;
  used: number;
}

/**
 * Locks the candidate inboxes in id order (two enrollments never wait on
 * each other's locks) and counts each one's slots of `day` in the same
 * statement. Called under the tenant's account lock (db/sendQuota.ts): its
 * snapshot is taken after that lock was granted, and every slot of these
 * inboxes is taken under it, so it sees what the previous holder committed.
 */
export async function lockInboxesWithDayUsage(m: EntityManager, candidates: string[], day: string): Promise<InboxDayUsage[]> {
  return (await m.query(
    `SELECT i.id, i.daily_cap, (SELECT count(*)::int FROM inbox_send_slots s WHERE s.inbox_id = i.id AND s.day = $2) AS used
       FROM inboxes i WHERE i.id = ANY($1) ORDER BY i.id FOR UPDATE OF i`,
    [candidates, day],
  )) as InboxDayUsage[];
}

/** A manual message's slot question: whether it has its slot, and the time zone of its inbox's day. */
export interface MessageSlot {
  reserved: boolean;
  /**
   * The inbox's day is counted in the time zone of the newest campaign that
   * sends from it, so manual sends and that campaign's steps fill the same
   * day; an inbox no campaign sends from counts UTC days
   * (docs/architecture.md, "Manual messages").
   */
  timezone: string;
}

/** Whether the message has its slot already, and the zone its inbox's days are counted in, in one statement. */
export async function readMessageSlot(m: EntityManager, messageRowId: string, inboxId: string): Promise<MessageSlot> {
  const [row] = (await m.query(
    `SELECT EXISTS (SELECT 1 FROM inbox_send_slots s WHERE s.message_id = $1) AS reserved,
            coalesce((SELECT c.timezone FROM campaign_inboxes ci JOIN campaigns c ON c.id = ci.campaign_id
                       WHERE ci.inbox_id = $2 ORDER BY c.created_at DESC, c.id DESC LIMIT 1), 'UTC') AS timezone`,
    [messageRowId, inboxId],
  )) as MessageSlot[];
  return row!;
}
