import { error } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/guard';
import type { BackfillList } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requirePlatformAdmin(locals.me, url);
  const res = await api<BackfillList>(cookies, '/api/platform/backfills');
  if (res.status !== 200) error(res.status, 'Could not load backfills');
  return { backfills: res.body.data };
};
