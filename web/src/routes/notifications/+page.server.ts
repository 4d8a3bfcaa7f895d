// The signed-in member's notifications (docs/console.md, "Notifications"):
// every member of a tenant may open this page, so it lives outside the spaces
// (the hooks guard decides spaces only) and asks for a tenant itself. The API
// answers only the caller's own notifications; marking read works as a plain
// form post.
import { error, fail } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Actions, PageServerLoad } from './$types';

export interface Notification {
  id: string;
  title: string;
  body: string;
  link: string | null;
  createdAt: string;
  readAt: string | null;
}

interface NotificationList {
  data: Notification[];
  nextCursor: string | null;
  unread: number;
}

const PAGE_SIZE = 50;
const ID = /^ntf_[0-9a-z]{26}$/;

export const load: PageServerLoad = async ({ locals, cookies, url, depends }) => {
  requireTenant(locals.me, url);
  depends('app:notifications');
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  const cursor = url.searchParams.get('cursor');
  if (cursor) params.set('cursor', cursor);
  const res = await api<NotificationList>(cookies, `/api/notifications?${params}`);
  if (res.status === 400) return { notifications: [], nextCursor: null, unread: 0, message: 'That page link is no longer valid: start again from the newest.' };
  if (res.status !== 200) error(res.status === 401 ? 401 : 502, 'Your notifications could not be loaded. Try again in a moment.');
  return { notifications: res.body.data, nextCursor: res.body.nextCursor, unread: res.body.unread, message: null };
};

export const actions: Actions = {
  read: async ({ request, cookies, locals }) => {
    if (!locals.me) error(401, 'Your session has ended: sign in again.');
    const id = String((await request.formData()).get('id') ?? '');
    if (!ID.test(id)) return fail(400, { form: 'read', message: 'Choose a notification to mark read.' });
    const res = await api(cookies, `/api/notifications/${id}/read`, { method: 'POST' });
    if (res.status !== 200) return formFailure(res, 'read');
    return { form: 'read', done: true };
  },
  readAll: async ({ cookies, locals }) => {
    if (!locals.me) error(401, 'Your session has ended: sign in again.');
    const res = await api<{ marked: number }>(cookies, '/api/notifications/read-all', { method: 'POST' });
    if (res.status !== 200) return formFailure(res, 'readAll');
    return { form: 'readAll', done: true, marked: res.body.marked };
  },
};
