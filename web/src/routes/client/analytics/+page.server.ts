// The Analytics page: the customer's dashboard of a date range (the last 30
// days by default) from the event stream, its website events by surface, and
// the export form, whose download goes through ./export (the console's server
// streams the API's file, so the browser never holds an API credential). A
// range too long to download at once is prepared as a file by the export
// workflow (`?/prepare`); the page follows it (`?export=…`) with a progress
// bar and offers the file through ./exports/[id]/download when it is done.
import { fail, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { plainIssue } from '$lib/plainErrors';
import { can, type AnalyticsExport, type AnalyticsSummary, type ApiErrorBody } from '$lib/types';
import { EXPORT_ERROR_COOKIE, EXPORT_ERROR_PATH } from '$lib/server/exportError';
import type { Actions, PageServerLoad } from './$types';
import { dayAfter } from '$lib/exportRange';

export const load: PageServerLoad = async ({ locals, cookies, url, depends }) => {
  depends('app:analytics-export');
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  const range = { from: url.searchParams.get('from') ?? '', to: url.searchParams.get('to') ?? '', tz: url.searchParams.get('tz') || 'UTC' };
  const exportError = cookies.get(EXPORT_ERROR_COOKIE) ?? null;
  if (exportError) cookies.delete(EXPORT_ERROR_COOKIE, { path: EXPORT_ERROR_PATH });
  const base = {
    customers,
    selected,
    range,
    summary: null as AnalyticsSummary | null,
    errors: {} as Record<string, string>,
    failed: false,
    exportError,
    canExport: can(locals.me, 'analytics.export'),
    zones: Intl.supportedValuesOf('timeZone'),
    preparing: null as AnalyticsExport | null,
  };
  if (!selected) return base;
  const exportId = url.searchParams.get('export');
  if (exportId && /^exp_[0-9a-z]{26}$/.test(exportId) && base.canExport) {
    const prepared = await api<AnalyticsExport>(cookies, `/api/analytics/exports/${exportId}`, { customerId: selected.id });
    if (prepared.status === 200) base.preparing = prepared.body;
  }
  const query = new URLSearchParams({ tz: range.tz, ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) });
  const res = await api<AnalyticsSummary>(cookies, `/api/analytics/summary?${query}`, { customerId: selected.id });
  if (res.status === 200) return { ...base, summary: res.body, range: { from: res.body.from, to: res.body.to, tz: res.body.timezone } };
  const errors: Record<string, string> = {};
  const details = (res.body as unknown as ApiErrorBody | undefined)?.error?.details;
  if (res.status === 400 && Array.isArray(details)) for (const d of details) errors[d.path] ??= plainIssue(d.message);
  return { ...base, errors, failed: Object.keys(errors).length === 0 };
};

export const actions: Actions = {
  // A long range's export, prepared as a file by the export workflow; the page then follows its progress.
  prepare: async ({ locals, request, cookies, url }) => {
    requireTenant(locals.me, url);
    if (!can(locals.me, 'analytics.export')) return fail(403, { form: 'prepare', message: 'Your role does not allow exporting analytics.', errors: {} });
    const { selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
    if (!selected) return fail(400, { form: 'prepare', message: 'Choose a customer first.', errors: {} });
    const f = await request.formData();
    const from = String(f.get('from') ?? '');
    const to = String(f.get('to') ?? '');
    const tz = String(f.get('tz') ?? '') || 'UTC';
    // The form's "To" is the last day included; the API's `to` is the first moment left out.
    const res = await api<AnalyticsExport>(cookies, '/api/analytics/exports', {
      method: 'POST',
      customerId: selected.id,
      body: { from, to: dayAfter(to), tz, format: 'csv' },
    });
    if (res.status !== 202) return formFailure(res, 'prepare', { from, to, tz });
    redirect(303, `/client/analytics?${new URLSearchParams({ from, to, tz, export: res.body.id })}#export`);
  },
};
