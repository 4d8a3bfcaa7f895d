// Analytics export routes (docs/analytics.md, "Export"): a streamed CSV or
// NDJSON export of the customer's events by date range, exports of any size
// run as a workflow with their progress and a signed download link, and
// incremental pulls of the stream by seq. Declarations over
// services/analytics/export; all take analytics.export and work in the
// customer X-Customer-Id names — except the download, whose signed link is
// its own credential.
import { type AppDeps } from '../deps';
import * as analytics from '../../services/analytics/export';
import { type Routes } from '../routing';
import * as R from '../schemas/analyticsExport.responses';
import * as S from '../schemas/analyticsExport';

/** What an export's file is: CSV or NDJSON (its `format`). */
const EXPORT_CONTENT_TYPES = ['text/csv', 'application/x-ndjson'] as const;

const tag = 'analytics';
const exporting = { tag, auth: 'tenant', permission: 'analytics.export' } as const;
const oneExport = { customer: 'addressed', params: { id: { prefix: 'exp', resource: 'export' } } } as const;
const campaign404 = { 404: "not_found: campaignId names no campaign of the customer's" };

export function analyticsExportRoutes(r: Routes, deps: analytics.ExportDeps & Pick<AppDeps, 'dataSource'>) {
  r.add(
    {
      method: 'get',
      path: '/api/analytics/export',
      summary:
        "The customer's events with occurred_at in [from, to) as CSV (columns in the documented order) or NDJSON, streamed. At most 31 days and 1,000,000 events: larger ones go through POST /api/analytics/exports",
      ...exporting,
      customer: 'required',
      query: S.exportQuery,
      download: EXPORT_CONTENT_TYPES,
      errors: { ...campaign404, 422: 'export_too_large: over 31 days or 1,000,000 events; details.use names POST /api/analytics/exports' },
    },
    async ({ access, customerId, query, ctx }) => {
      const file = await analytics.openExport(access, customerId, query);
      ctx.status = 200;
      ctx.set('Content-Type', file.contentType);
      ctx.set('Content-Disposition', `attachment; filename="${file.fileName}"`);
      ctx.set('Cache-Control', 'no-store');
      // The cursor lives in the request's tenant transaction, which ends
      // when this handler returns: the handler writes the response itself.
      ctx.respond = false;
      try {
        await file.writeTo(ctx.res);
      } catch (err) {
        // Past the headers an error can only cut the response short, which the client sees as an incomplete transfer.
        ctx.res.destroy();
        if (!ctx.res.headersSent) throw err;
        ctx.state.log?.warn({ err: { name: (err as Error).name, message: (err as Error).message } }, 'export stream ended early');
      }
    },
  );
  r.add(
    {
      method: 'post',
      path: '/api/analytics/exports',
      summary:
        "Export the customer's events of any range as a file, written by a workflow: the answer is its status; GET /api/analytics/exports/{id} shows its progress and, when done, a download link valid for 24 hours",
      ...exporting,
      customer: 'required',
      idempotent: true,
      body: S.exportBody,
      status: 202,
      response: R.analyticsExport,
      errors: campaign404,
    },
    ({ access, customerId, body }) => analytics.startExport(access, deps, customerId, body),
  );
  r.add(
    {
      method: 'get',
      path: '/api/analytics/exports/:id',
      summary: 'An export: its status, rows written of how many, and when completed a signed download link with its expiry',
      ...exporting,
      ...oneExport,
      response: R.analyticsExport,
    },
    ({ access, customerId, params }) => analytics.getExport(access, deps, customerId, params.id!),
  );
  r.add(
    {
      method: 'get',
      path: '/api/analytics/exports/:id/download',
      summary:
        "A completed export's file, through the signed link its status gives (the link is the credential; a tampered one is a 404, an expired one 410 export_expired)",
      tag,
      auth: 'public',
      params: { id: { prefix: 'exp', resource: 'export' } },
      query: S.downloadQuery,
      download: EXPORT_CONTENT_TYPES,
      errors: { 404: 'not_found: no such export, or the link is not one the server signed', 410: 'export_expired: the link or the export is past its life' },
    },
    async ({ params, query, ctx }) => {
      const file = await analytics.exportDownload(deps.dataSource, deps, params.id!, query);
      ctx.set('Content-Type', file.contentType);
      ctx.set('Content-Disposition', `attachment; filename="${file.fileName}"`);
      ctx.set('Content-Length', String(file.size));
      ctx.set('Cache-Control', 'no-store');
      ctx.body = file.open();
    },
  );
  r.add(
    {
      method: 'get',
      path: '/api/analytics/events',
      summary:
        "The customer's events after a seq, in seq order, for incremental pulls: pass next as after to go on. The newest minute is held back until every event before it is stored",
      ...exporting,
      customer: 'required',
      query: S.eventsQuery,
      response: R.analyticsEvents,
      errors: campaign404,
    },
    ({ access, customerId, query }) => analytics.pullEvents(access, customerId, query),
  );
}
