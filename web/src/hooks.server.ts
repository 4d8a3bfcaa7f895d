// Turns the session cookie into `locals.me` once per request.
import type { Handle } from '@sveltejs/kit';
import { api, SESSION_COOKIE } from '$lib/server/api';
import type { Me } from '$lib/types';

export const handle: Handle = async ({ event, resolve }) => {
  event.locals.me = null;
  if (event.cookies.get(SESSION_COOKIE)) {
    const res = await api<Me>(event.cookies, '/api/auth/me');
    if (res.status === 200) event.locals.me = res.body;
    else if (res.status === 401) event.cookies.delete(SESSION_COOKIE, { path: '/' });
  }
  return resolve(event);
};
