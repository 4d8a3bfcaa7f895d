import { api } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { Onboarding } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const res = await api<Onboarding>(cookies, '/api/onboarding');
  return { onboarding: res.status === 200 ? res.body : null };
};
