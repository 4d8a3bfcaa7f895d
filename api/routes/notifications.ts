// A member's own in-app notifications: listed newest first with the unread
// count, marked read one by one or all at once (services/notifications). Any
// member may call them; nobody sees another's.
import * as notifications from '../../services/notifications';
import { listQuery } from '../pagination';
import { type Routes } from '../routing';
import * as R from '../schemas/notifications.responses';

const tag = 'notifications';
const own = { tag, auth: 'tenant' } as const;

const notificationsQuery = listQuery.pick({ limit: true, cursor: true }).strict();

export function notificationRoutes(r: Routes) {
  r.add(
    {
      method: 'get',
      path: '/api/notifications',
      summary: "The caller's notifications, newest first, with the unread count (an API token has none)",
      ...own,
      query: notificationsQuery,
      response: R.notificationList,
    },
    ({ access, query }) => notifications.listMyNotifications(access, query),
  );
  r.add(
    {
      method: 'post',
      path: '/api/notifications/:id/read',
      summary: 'Mark one of the caller’s notifications read',
      ...own,
      params: { id: { prefix: 'ntf', resource: 'notification' } },
      response: R.notification,
    },
    ({ access, params }) => notifications.markRead(access, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/notifications/read-all',
      summary: 'Mark every notification of the caller read',
      ...own,
      response: R.markedAll,
    },
    ({ access }) => notifications.markAllRead(access),
  );
}
