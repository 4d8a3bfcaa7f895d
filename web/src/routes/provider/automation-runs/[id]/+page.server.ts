import { error, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { temporalUi } from '$lib/server/temporalUi';
import type { AutomationRun } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url, params, depends }) => {
  depends('app:automation-run');
  requireTenant(locals.me, url);
  const res = await api<AutomationRun>(cookies, `/api/automation-runs/${encodeURIComponent(params.id)}`);
  if (res.status === 404) error(404, 'Run not found');
  if (res.status !== 200) error(502, 'Could not load the run');
  return { run: res.body, temporalLink: temporalUi().workflow(res.body.workflowId) };
};

export const actions: Actions = {
  cancel: async ({ cookies, params }) => {
    const res = await api<{ status: string }>(cookies, `/api/automation-runs/${encodeURIComponent(params.id)}/cancel`, { method: 'POST' });
    if (res.status !== 202) return formFailure(res, 'cancel');
    return { form: 'cancel', saved: true, status: res.body.status };
  },
  /** A new run on this run's version that skips the steps it completed; the page moves on to it. */
  rerun: async ({ cookies, params }) => {
    const res = await api<{ runId: string }>(cookies, `/api/automation-runs/${encodeURIComponent(params.id)}/rerun`, { method: 'POST' });
    if (res.status !== 202) return formFailure(res, 'rerun');
    redirect(303, `/provider/automation-runs/${res.body.runId}`);
  },
};
