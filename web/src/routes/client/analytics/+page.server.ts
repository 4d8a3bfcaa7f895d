// The Analytics page: the customer's dashboard of a date range (the last 30
// days by default) from the event stream, its website events by surface, and
// the export form, whose download goes through ./export (the console's server
// streams the API's file, so the browser never holds an API credential).
import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { plainIssue } from '$lib/plainErrors';
import { can, type AnalyticsSummary, type ApiErrorBody } from '$lib/types';
import { EXPORT_ERROR_COOKIE, EXPORT_ERROR_PATH } from '$lib/server/exportError';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
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
  };
  if (!selected) return base;
  const query = new URLSearchParams({ tz: range.tz, ...(range.from ? { from: range.from } : {}), ...(range.to ? { to: range.to } : {}) });
  const res = await api<AnalyticsSummary>(cookies, `/api/analytics/summary?${query}`, { customerId: selected.id });
  if (res.status === 200) return { ...base, summary: res.body, range: { from: res.body.from, to: res.body.to, tz: res.body.timezone } };
  const errors: Record<string, string> = {};
  const details = (res.body as unknown as ApiErrorBody | undefined)?.error?.details;
  if (res.status === 400 && Array.isArray(details)) for (const d of details) errors[d.path] ??= plainIssue(d.message);
  return { ...base, errors, failed: Object.keys(errors).length === 0 };
};
