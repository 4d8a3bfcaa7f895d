import { error } from '@sveltejs/kit';
import { api } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { isRunStatus } from '$lib/runs';
import type { AutomationRunList } from '$lib/types';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url, params }) => {
  requireTenant(locals.me, url);
  const status = url.searchParams.get('status') ?? '';
  const cursor = url.searchParams.get('cursor') ?? '';
  const filter = { status: isRunStatus(status) ? status : '' };
  const query = new URLSearchParams({ limit: '50', ...(filter.status ? { status: filter.status } : {}), ...(cursor ? { cursor } : {}) });
  const id = encodeURIComponent(params.id);
  const res = await api<AutomationRunList>(cookies, `/api/automations/${id}/runs?${query}`);
  if (res.status === 404) error(404, 'Automation not found');
  if (res.status !== 200) error(res.status === 400 ? 400 : 502, 'Could not load the runs');
  // The automation's name when its definitions answer; the id otherwise.
  const automation = await api<{ name?: string }>(cookies, `/api/automations/${id}`);
  return { runs: res.body, filter, automationId: params.id, name: automation.status === 200 ? (automation.body.name ?? null) : null };
};
