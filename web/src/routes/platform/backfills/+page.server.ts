import { error, redirect } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import type { BackfillList } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  if (!locals.me) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.me.user?.isPlatformAdmin) error(404, 'Not found');
  const res = await api<BackfillList>(cookies, '/api/platform/backfills');
  if (res.status !== 200) error(res.status, 'Could not load backfills');
  return { backfills: res.body.data };
};
