import { error } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { requirePlatformAdmin } from '$lib/server/guard';
import { temporalUi } from '$lib/server/temporalUi';
import type { BackfillDetail } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, params, url, depends }) => {
  requirePlatformAdmin(locals.me, url);
  depends('app:backfill');
  const res = await api<BackfillDetail>(cookies, `/api/platform/backfills/${encodeURIComponent(params.name)}`);
  if (res.status === 404) error(404, 'Backfill not found');
  if (res.status !== 200) error(res.status, 'Could not load the backfill');
  const ui = temporalUi();
  return {
    backfill: res.body,
    links: {
      workflow: ui.workflow(res.body.run.workflowId),
      children: ui.query(`WorkflowId STARTS_WITH "tenant/" AND WorkflowType = "backfill"`),
    },
  };
};

const int = (v: FormDataEntryValue | null) => (v === null || v === '' ? undefined : Number(v));

function control(action: 'pause' | 'resume' | 'cancel') {
  return async ({ cookies, params }: { cookies: Parameters<typeof api>[0]; params: { name: string } }) => {
    const res = await api(cookies, `/api/platform/backfills/${encodeURIComponent(params.name)}/${action}`, { method: 'POST', body: {} });
    if (res.status !== 200) return formFailure(res, action);
    return { form: action, done: true };
  };
}

export const actions: Actions = {
  start: async ({ cookies, params, request }) => {
    const f = await request.formData();
    const settings = { targetBatchMs: int(f.get('targetBatchMs')), sleepMs: int(f.get('sleepMs')) };
    const res = await api(cookies, `/api/platform/backfills/${encodeURIComponent(params.name)}/start`, {
      method: 'POST',
      body: { dryRun: f.get('dryRun') === 'on', settings: Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) },
    });
    if (res.status !== 202) return formFailure(res, 'start');
    return { form: 'start', done: true };
  },
  pause: control('pause'),
  resume: control('resume'),
  cancel: control('cancel'),
  throttle: async ({ cookies, params, request }) => {
    const f = await request.formData();
    const body = Object.fromEntries(
      Object.entries({ targetBatchMs: int(f.get('targetBatchMs')), sleepMs: int(f.get('sleepMs')) }).filter(([, v]) => v !== undefined),
    );
    const res = await api(cookies, `/api/platform/backfills/${encodeURIComponent(params.name)}/throttle`, { method: 'POST', body });
    if (res.status !== 200) return formFailure(res, 'throttle');
    return { form: 'throttle', done: true };
  },
};
