import { api } from '$lib/server/api';
import type { LayoutServerLoad } from './$types';

// The header's unread count is the signed-in member's, in the current tenant;
// marking read (a form action) reloads it with everything else.
export const load: LayoutServerLoad = async ({ locals, cookies, depends }) => {
  depends('app:notifications');
  const me = locals.me;
  const unread = me?.tenant && me.user ? await api<{ unread: number }>(cookies, '/api/notifications?limit=1') : null;
  return { me, unread: unread?.status === 200 ? unread.body.unread : null };
};
