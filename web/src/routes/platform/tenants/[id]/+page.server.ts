import { error, redirect } from '@sveltejs/kit';
import { env } from '$env/dynamic/private';
import { api, formFailure } from '$lib/server/api';
import type { Provisioning } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export type { Provisioning };

export const load: PageServerLoad = async ({ locals, cookies, params, url, depends }) => {
  if (!locals.me) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.me.user?.isPlatformAdmin) error(404, 'Not found');
  depends('app:provisioning');
  const res = await api<Provisioning>(cookies, `/api/tenants/${encodeURIComponent(params.id)}/provisioning`);
  if (res.status === 404) error(404, 'Tenant not found');
  if (res.status !== 200) error(res.status, 'Could not load provisioning');
  const ui = env.TEMPORAL_UI_URL || 'http://127.0.0.1:8233';
  const ns = env.TEMPORAL_NAMESPACE || 'default';
  return {
    provisioning: res.body,
    links: {
      workflow: `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(res.body.workflowId)}`,
      tenantWorkflows: `${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent(`TenantId="${params.id}"`)}`,
    },
  };
};

export const actions: Actions = {
  retry: async ({ cookies, params }) => {
    const res = await api(cookies, `/api/tenants/${encodeURIComponent(params.id)}/provisioning/retry`, { method: 'POST' });
    if (res.status !== 202) return formFailure(res, 'retry');
    return { form: 'retry', retried: true };
  },
};
