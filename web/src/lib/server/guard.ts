import { error, redirect } from '@sveltejs/kit';
import type { Me } from '$lib/types';

/** Pages of the tenant space need a signed-in person with a current tenant. */
export function requireTenant(me: Me | null, from: URL): Me & { tenant: NonNullable<Me['tenant']> } {
  if (!me) redirect(303, `/login?next=${encodeURIComponent(from.pathname)}`);
  if (!me.tenant) redirect(303, '/');
  return me as Me & { tenant: NonNullable<Me['tenant']> };
}

/** Pages of the Platform space need a signed-in platform admin; anyone else gets a plain 404. */
export function requirePlatformAdmin(me: Me | null, from: URL): Me {
  if (!me) redirect(303, `/login?next=${encodeURIComponent(from.pathname)}`);
  if (!me.user?.isPlatformAdmin) error(404, 'Not found');
  return me;
}
