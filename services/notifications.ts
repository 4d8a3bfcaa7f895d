// A member's in-app notifications (docs/automations.md, "Notify"): each
// member reads and marks only their own, in the current tenant. An API token
// is no member's: it has none, and any notification it names is not found.
import { countUnread, listNotifications, markAllNotificationsRead, markNotificationRead, type NotificationRow } from '../db/notifications';
import { type ListParams } from '../db/pagination';
import { notFound } from '../lib/errors';
import { type TenantAccess } from './context';

function notificationJson(n: NotificationRow) {
  return {
    id: n.id,
    title: n.title,
    body: n.body,
    link: n.link,
    automationId: n.automation_id,
    runId: n.run_id,
    createdAt: n.created_at,
    readAt: n.read_at,
  };
}

/** The caller's notifications, newest first, with how many are unread. */
export async function listMyNotifications(a: TenantAccess, list: ListParams) {
  if (!a.userId) return { data: [], nextCursor: null, unread: 0 };
  const page = await listNotifications(a.manager, a.userId, list);
  return { data: page.data.map(notificationJson), nextCursor: page.nextCursor, unread: await countUnread(a.manager, a.userId) };
}

export async function markRead(a: TenantAccess, id: string) {
  const row = a.userId ? await markNotificationRead(a.manager, a.userId, id) : undefined;
  if (!row) throw notFound('notification');
  return notificationJson(row);
}

export async function markAllRead(a: TenantAccess) {
  return { marked: a.userId ? await markAllNotificationsRead(a.manager, a.userId) : 0 };
}
