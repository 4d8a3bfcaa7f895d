// Every request of the console passes here before any page load, form action
// or endpoint runs (docs/console.md, "Spaces"):
// 1. an old URL answers 308 to its new place (method and body kept);
// 2. the session cookie becomes `locals.me`;
// 3. a space's path is guarded: anonymous → sign in, no tenant → home,
//    outside the member's spaces or without the page's permission → 403; the
//    platform's pages answer 404 to anyone but a platform admin.
// The API enforces the same permissions again on every call it answers.
import { error, redirect, type Handle } from '@sveltejs/kit';
import { api, SESSION_COOKIE } from '$lib/server/api';
import type { Me } from '$lib/types';
import { legacyRedirect, spaceAccess, TENANT_SPACES } from '../../lib/spaces';

export const handle: Handle = async ({ event, resolve }) => {
  const moved = legacyRedirect(event.url.pathname);
  if (moved) redirect(308, moved + event.url.search);

  event.locals.me = null;
  if (event.cookies.get(SESSION_COOKIE)) {
    const res = await api<Me>(event.cookies, '/api/auth/me');
    if (res.status === 200) event.locals.me = res.body;
    else if (res.status === 401) event.cookies.delete(SESSION_COOKIE, { path: '/' });
  }
  guard(event.locals.me, event.url, routedPath(event.route.id, event.url.pathname), event.request.method);
  return resolve(event);
};

/**
 * The path SvelteKit routes the request by: the matched route's id when there
 * is one, else the pathname decoded as SvelteKit decodes it. The raw pathname
 * is not enough: `/%70rovider/outbox` runs the `/provider/outbox` page.
 */
function routedPath(routeId: string | null, pathname: string): string {
  if (routeId) return routeId;
  try {
    return pathname.split('%25').map(decodeURI).join('%25');
  } catch {
    return pathname;
  }
}

function guard(me: Me | null, url: URL, path: string, method: string): void {
  const [, first] = path.split('/');
  const isSpace = (TENANT_SPACES as readonly string[]).includes(first ?? '');
  if (!isSpace && first !== 'platform') return;
  if (!me) {
    // A form post without a session cannot be replayed after sign-in.
    if (method !== 'GET' && method !== 'HEAD') error(401, 'Your session has ended: sign in again.');
    redirect(303, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (first === 'platform') {
    if (!me.user?.isPlatformAdmin) error(404, 'Not found');
    return;
  }
  if (!me.tenant) redirect(303, '/');
  const access = spaceAccess(path, me.permissions)!;
  if (!access.allowed) {
    error(
      403,
      access.reason === 'space'
        ? `Your role does not include the ${access.space} space.`
        : 'Your role does not allow this page. Ask an owner or admin if you need it.',
    );
  }
}
