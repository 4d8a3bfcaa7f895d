// The export form's download: the API's export of the chosen range, streamed
// through as it arrives (the file may be large; nothing is buffered here). A
// refusal (a range too long for a direct download, a role without export)
// goes back to the Analytics page, said in plain words beside the form.
import { error, redirect, type RequestHandler } from '@sveltejs/kit';
import { apiUrl, SESSION_COOKIE } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { plainHeadline } from '$lib/plainErrors';
import { EXPORT_ERROR_COOKIE, EXPORT_ERROR_PATH } from '$lib/server/exportError';
import { can, type ApiErrorBody } from '$lib/types';
import { dayAfter } from '$lib/exportRange';
import { passedFile } from '$lib/server/files';

const PASSED = ['from', 'to', 'tz', 'format', 'types', 'surface', 'campaignId'];

export const GET: RequestHandler = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  if (!can(locals.me, 'analytics.export')) error(403, 'Your role does not allow exporting analytics.');
  const { selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) error(404, 'Choose a customer first.');
  const query = new URLSearchParams({ format: 'csv' });
  for (const k of PASSED) {
    const v = url.searchParams.get(k);
    if (v) query.set(k, v);
  }
  // The form's "To" is the last day included; the API's `to` is the first moment left out.
  const to = query.get('to');
  if (to) query.set('to', dayAfter(to));
  const headers: Record<string, string> = { accept: 'text/csv, application/x-ndjson, application/json', 'x-customer-id': selected.id };
  const session = cookies.get(SESSION_COOKIE);
  if (session) headers.cookie = `${SESSION_COOKIE}=${session}`;
  let res: Response;
  try {
    res = await fetch(apiUrl(`/api/analytics/export?${query}`), { headers });
  } catch {
    return back(cookies, url, 'The export could not start: the service is not reachable. Try again in a moment.');
  }
  if (res.status !== 200 || !res.body) {
    const body = (await res.json().catch(() => undefined)) as ApiErrorBody | undefined;
    const err = body?.error;
    const hasFields = Array.isArray(err?.details) && err.details.length > 0;
    return back(cookies, url, plainHeadline(err?.code, err?.message, res.status, hasFields));
  }
  return passedFile(res, {
    contentType: 'text/csv; charset=utf-8',
    fileName: `analytics-${query.get('from') ?? ''}-${query.get('to') ?? ''}.${query.get('format')}`,
  });
};

function back(cookies: Parameters<RequestHandler>[0]['cookies'], url: URL, message: string): never {
  cookies.set(EXPORT_ERROR_COOKIE, message.slice(0, 300), { path: EXPORT_ERROR_PATH, httpOnly: true, sameSite: 'lax', maxAge: 60 });
  const q = new URLSearchParams();
  for (const k of ['from', 'to', 'tz']) {
    const v = url.searchParams.get(k);
    if (v) q.set(k, v);
  }
  redirect(303, `/client/analytics${q.size ? `?${q}` : ''}#export`);
}
