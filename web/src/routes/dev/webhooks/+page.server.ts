// The tenant's inbound webhook endpoints: where its e-mail provider posts
// replies, bounces and opens, and how each delivery is signed. The signing
// secrets are the operator's (docs/providers.md); the API never answers them.
import { api, publicApiUrl } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { WebhookEndpoints } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const res = await api<WebhookEndpoints>(cookies, '/api/webhooks/endpoints');
  return {
    endpoints: res.status === 200 ? res.body.data.map((e) => ({ ...e, url: publicApiUrl(e.path) })) : [],
    loadError: res.status === 200 ? null : 'The endpoints could not be loaded; try again in a moment.',
  };
};
