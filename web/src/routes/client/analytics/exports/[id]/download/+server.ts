// A prepared export's file: the API's signed link of the export, fetched and
// streamed through by the console's server (the browser talks to the console
// only), for as long as the link lives.
import { error, type RequestHandler } from '@sveltejs/kit';
import { api, apiUrl } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can, type AnalyticsExport } from '$lib/types';
import { passedFile } from '$lib/server/files';

export const GET: RequestHandler = async ({ locals, cookies, url, params }) => {
  requireTenant(locals.me, url);
  if (!can(locals.me, 'analytics.export')) error(403, 'Your role does not allow exporting analytics.');
  const { selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected || !/^exp_[0-9a-z]{26}$/.test(params.id ?? '')) error(404, 'No such export.');
  const status = await api<AnalyticsExport>(cookies, `/api/analytics/exports/${params.id}`, { customerId: selected.id });
  if (status.status !== 200) error(404, 'No such export.');
  if (!status.body.download) error(410, 'This export’s file is not ready, or its link has expired: prepare it again.');
  let res: Response;
  try {
    res = await fetch(apiUrl(status.body.download.url));
  } catch {
    error(503, 'The file could not be fetched: the service is not reachable. Try again in a moment.');
  }
  if (res.status !== 200 || !res.body) error(res.status === 410 ? 410 : 404, 'This export’s link has expired: prepare it again.');
  return passedFile(res, {
    contentType: 'text/csv; charset=utf-8',
    fileName: `${params.id}.${status.body.format}`,
  });
};
