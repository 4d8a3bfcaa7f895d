import { error } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/guard';
import { temporalUi } from '$lib/server/temporalUi';
import type { Provisioning } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export type { Provisioning };

export const load: PageServerLoad = async ({ locals, cookies, params, url, depends }) => {
  requirePlatformAdmin(locals.me, url);
  depends('app:provisioning');
  const res = await api<Provisioning>(cookies, `/api/tenants/${encodeURIComponent(params.id)}/provisioning`);
  if (res.status === 404) error(404, 'Tenant not found');
  if (res.status !== 200) error(res.status, 'Could not load provisioning');
  const ui = temporalUi();
  return {
    provisioning: res.body,
    links: {
      workflow: ui.workflow(res.body.workflowId),
      tenantWorkflows: ui.query(`TenantId="${params.id}"`),
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
