// The space's bare prefix lands on its first page the member may open (the
// server guard in hooks.server.ts does the same before this runs).
import { error, redirect } from '@sveltejs/kit';
import { landingOf } from '../../../../lib/spaces';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  const landing = landingOf('provider', locals.me?.permissions ?? []);
  if (!landing) error(403, 'Your role does not allow any page of this space.');
  redirect(303, landing);
};
