import { error, redirect } from '@sveltejs/kit';
import { env } from '$env/dynamic/private';
import { api, formFailure } from '$lib/server/api';
import type { BackfillDetail } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, params, url, depends }) => {
  if (!locals.me) redirect(303, `/login?next=${encodeURIComponent(url.pathname)}`);
  if (!locals.me.user?.isPlatformAdmin) error(404, 'Not found');
  depends('app:backfill');
  const res = await api<BackfillDetail>(cookies, `/api/platform/backfills/${encodeURIComponent(params.name)}`);
  if (res.status === 404) error(404, 'Backfill not found');
  if (res.status !== 200) error(res.status, 'Could not load the backfill');
  const ui = env.TEMPORAL_UI_URL || 'http://127.0.0.1:8233';
  const ns = env.TEMPORAL_NAMESPACE || 'default';
  return {
    backfill: res.body,
    links: {
      workflow: `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(res.body.run.workflowId)}`,
      children: `${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent(`WorkflowId STARTS_WITH "tenant/" AND WorkflowType = "backfill"`)}`,
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
