// A space's bare prefix (`/client`) lands on its first page the member may
// open; the server guard (hooks.server.ts) has already let the member in.
import { error, redirect, type ServerLoad } from '@sveltejs/kit';
import { landingOf, type TenantSpace } from '../../../../lib/spaces';

export function landOn(space: TenantSpace): ServerLoad {
  return ({ locals }) => {
    const landing = landingOf(space, locals.me?.permissions ?? []);
    if (!landing) error(403, 'Your role does not allow any page of this space.');
    redirect(303, landing);
  };
}
