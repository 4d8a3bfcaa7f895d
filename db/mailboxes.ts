// The mailbox reader's checkpoint per inbox: UIDVALIDITY and the last UID
// stored under it, written in the transaction that stores the mail it covers
// (docs/providers.md, "IMAP"), with what the inbox page shows of the reader:
// how much it stored, when it last read, and why it cannot read.
import { type EntityManager } from 'typeorm';

export interface MailboxCheckpoint {
  /** UIDVALIDITY as a decimal string (a 32-bit unsigned number), or null before the first read. */
  uidValidity: string | null;
  lastUid: number;
}

export async function readCheckpoint(m: EntityManager, inboxId: string): Promise<MailboxCheckpoint> {
  const [row] = (await m.query('SELECT uid_validity::text AS uid_validity, last_uid FROM inbox_mailboxes WHERE inbox_id = $1', [inboxId])) as {
    uid_validity: string | null;
    last_uid: string;
  }[];
  return { uidValidity: row?.uid_validity ?? null, lastUid: row ? Number(row.last_uid) : 0 };
}

const SKIPPED_MARK = ' could not be stored (UID';

/** The inbox's note about mail the store had to leave out: "1 mail could not be stored (UID 42): …". */
export function skippedMailNote(skipped: { uid: number; reason: string }[]): string {
  const uids = skipped.map((s) => s.uid);
  const shown = uids.length > 5 ? `${uids.slice(0, 5).join(', ')} …` : uids.join(', ');
  const reasons = [...new Set(skipped.map((s) => s.reason))].join('; ');
  return `${skipped.length} ${skipped.length === 1 ? 'mail' : 'mails'}${SKIPPED_MARK}${uids.length === 1 ? '' : 's'} ${shown}): ${reasons}`;
}

/**
 * Moves the checkpoint to `lastUid` under `uidValidity` and adds `stored`.
 * Under the same UIDVALIDITY it only ever moves forward: an attempt the
 * server has already given up on (a heartbeat timeout) may still commit a
 * batch after its retry has read further. The error is cleared — except that
 * a note about skipped mail (`skipped`, set by this batch) stays until a
 * later batch reads mail again, so a poll that finds nothing new does not
 * hide it before anyone saw it.
 */
export async function advanceCheckpoint(
  m: EntityManager,
  inboxId: string,
  at: { uidValidity: string; lastUid: number; stored: number; read?: number; skipped?: string },
): Promise<void> {
  await m.query(
    `INSERT INTO inbox_mailboxes (tenant_id, inbox_id, uid_validity, last_uid, stored, synced_at, error)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2::bigint, $3, $4, now(), $5)
     ON CONFLICT (tenant_id, inbox_id) DO UPDATE SET
       last_uid = CASE WHEN inbox_mailboxes.uid_validity IS DISTINCT FROM EXCLUDED.uid_validity THEN EXCLUDED.last_uid
                       ELSE GREATEST(inbox_mailboxes.last_uid, EXCLUDED.last_uid) END,
       uid_validity = EXCLUDED.uid_validity,
       stored = inbox_mailboxes.stored + EXCLUDED.stored,
       synced_at = now(), updated_at = now(),
       error = CASE WHEN EXCLUDED.error IS NOT NULL THEN EXCLUDED.error
                    WHEN $6::int = 0 AND strpos(inbox_mailboxes.error, $7) > 0 THEN inbox_mailboxes.error END`,
    [inboxId, at.uidValidity, at.lastUid, at.stored, at.skipped?.slice(0, 500) ?? null, at.read ?? 0, SKIPPED_MARK],
  );
}

/** Records why the mailbox cannot be read (shown to the tenant; never a network detail). The checkpoint stays. */
export async function recordMailboxError(m: EntityManager, inboxId: string, error: string): Promise<void> {
  await m.query(
    `INSERT INTO inbox_mailboxes (tenant_id, inbox_id, error) VALUES (current_setting('app.tenant_id')::uuid, $1, $2)
     ON CONFLICT (tenant_id, inbox_id) DO UPDATE SET error = EXCLUDED.error, updated_at = now()`,
    [inboxId, error.slice(0, 500)],
  );
}

/** Forgets the checkpoint: the settings now name another mailbox, or none. */
export async function deleteCheckpoint(m: EntityManager, inboxId: string): Promise<void> {
  await m.query('DELETE FROM inbox_mailboxes WHERE inbox_id = $1', [inboxId]);
}
