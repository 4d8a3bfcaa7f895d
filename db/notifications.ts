// In-app notifications (docs/automations.md, "Notify"): one row per member,
// read by that member only. A notification an automation step writes carries
// the step's key (`dedupe_key`), unique per member, so a retried step writes
// nothing new — and the caller learns which rows are new, so it mails only
// those.
import { type EntityManager } from 'typeorm';
import { newId } from './ids';
import { keysetPage, type ListParams, type Page } from './pagination';

export interface NotificationRow {
  id: string;
  title: string;
  body: string;
  link: string | null;
  automation_id: string | null;
  run_id: string | null;
  created_at: Date;
  read_at: Date | null;
}

export interface NewNotification {
  userId: string;
  title: string;
  body?: string;
  link?: string | null;
  automationId?: string | null;
  runId?: string | null;
  dedupeKey?: string | null;
}

/** Writes the notifications; answers the users whose row is new (a row with a dedupe key the user already has is not written again). */
export async function insertNotifications(m: EntityManager, rows: NewNotification[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const inserted = (await m.query(
    `INSERT INTO notifications (tenant_id, id, user_id, title, body, link, automation_id, run_id, dedupe_key)
     SELECT current_setting('app.tenant_id')::uuid, n.id, n.user_id, n.title, n.body, n.link, n.automation_id, n.run_id, n.dedupe_key
       FROM jsonb_to_recordset($1::jsonb) AS n (id text, user_id text, title text, body text, link text, automation_id text, run_id text, dedupe_key text)
     ON CONFLICT (tenant_id, user_id, dedupe_key) DO NOTHING
     RETURNING user_id`,
    [
      JSON.stringify(
        rows.map((r) => ({
          id: newId('ntf'),
          user_id: r.userId,
          title: r.title,
          body: r.body ?? '',
          link: r.link ?? null,
          automation_id: r.automationId ?? null,
          run_id: r.runId ?? null,
          dedupe_key: r.dedupeKey ?? null,
        })),
      ),
    ],
  )) as { user_id: string }[];
  return inserted.map((r) => r.user_id);
}

const SELECT = 'SELECT id, title, body, link, automation_id, run_id, created_at, read_at FROM notifications';

/** One page of the user's notifications, newest first. */
export function listNotifications(m: EntityManager, userId: string, list: ListParams): Promise<Page<NotificationRow>> {
  return keysetPage<NotificationRow>(m, list, {
    select: SELECT,
    key: 'id',
    order: 'desc',
    where: [['user_id = ?', userId]],
    idOf: (r) => r.id,
  });
}

export async function countUnread(m: EntityManager, userId: string): Promise<number> {
  const [{ n }] = (await m.query('SELECT count(*)::int AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL', [userId])) as { n: number }[];
  return n;
}

/** Marks one of the user's notifications read (kept as first read); undefined when the user has no such notification. */
export async function markNotificationRead(m: EntityManager, userId: string, id: string): Promise<NotificationRow | undefined> {
  // An UPDATE answers [rows, count] through TypeORM.
  const [[row]] = (await m.query(
    `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE user_id = $1 AND id = $2
     RETURNING id, title, body, link, automation_id, run_id, created_at, read_at`,
    [userId, id],
  )) as [NotificationRow[], number];
  return row;
}

/** Marks every unread notification of the user read; answers how many. */
export async function markAllNotificationsRead(m: EntityManager, userId: string): Promise<number> {
  const [, count] = (await m.query('UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL', [userId])) as [unknown[], number];
  return count;
}
