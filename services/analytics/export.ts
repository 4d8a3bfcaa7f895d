// Reading the analytics stream out (docs/analytics.md, "Export"): a streamed
// export of a customer's events by date range, an export of any size as a
// workflow with its progress and an expiring signed download link, and
// incremental pulls by `seq`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Client } from '@temporalio/client';
import { type DataSource, type EntityManager } from 'typeorm';
import { countEventsUpTo, type EventExportFilter, type EventRow, lastEventSeq, listEventsAfter, streamEventExport } from '../../db/analyticsEvents';
import { type ExportRow, findExport, insertExport } from '../../db/analyticsExports';
import { customerOfCampaign } from '../../db/campaigns';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import {
  EXPORT_LINK_TTL_SECONDS,
  exportHeader,
  exportLinkSignature,
  exportLinkValid,
  type ExportFormat,
  formatExportRows,
  rangeDays,
  STREAM_MAX_DAYS,
  STREAM_MAX_ROWS,
} from '../../lib/analyticsExport';
import { ApiError, notFound } from '../../lib/errors';
import { defaultExportDir, exportFilePath } from '../../lib/exportFiles';
import { EXPORT_EVENTS, exportEventsStartOptions } from '../../workflows/exportEvents.contract';
import { type TenantAccess } from '../context';
import { startTenantWorkflow } from '../tenantWorkflows';

export interface ExportDeps {
  client: Client;
  taskQueue: string;
  /** Where finished exports are kept (default: `exports` under TENANTFLOW_DATA_DIR). */
  exportDir?: string;
  /** How long a finished export and its links last (default 24 h). */
  exportLinkTtlSeconds?: number;
  /** Events per activity call of the export workflow (its default when unset). */
  exportChunkRows?: number;
}

export interface ExportFilters {
  from: string;
  to: string;
  tz: string;
  types?: string[];
  surface?: string;
  campaignId?: string;
  format: ExportFormat;
}

/** A streamed export's server-side deadline: the cursor's whole life. */
const STREAM_TIMEOUT_MS = 10 * 60 * 1000;
/** Rows framed together: one write per batch, not per row. */
const FRAME_ROWS = 500;
/** Seconds a pull keeps below the watermark of open transactions (db/analyticsEvents.ts listEventsAfter). */
export const PULL_MARGIN_SECONDS = 2;

const CONTENT_TYPES: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson' };

function filterOf(customerId: string, f: ExportFilters): EventExportFilter {
  return {
    customerId,
    from: f.from,
    to: f.to,
    timeZone: f.tz,
    ...(f.types?.length ? { types: f.types } : {}),
    ...(f.surface !== undefined ? { surface: f.surface } : {}),
    ...(f.campaignId !== undefined ? { campaignId: f.campaignId } : {}),
  };
}

/** A campaign filter names one of the customer's campaigns; another's, or none, is the campaign's 404. */
async function checkCampaign(m: EntityManager, customerId: string, campaignId: string | undefined): Promise<void> {
  if (campaignId !== undefined && (await customerOfCampaign(m, campaignId)) !== customerId) throw notFound('campaign');
}

const tooLarge = (why: string) =>
  new ApiError(422, 'export_too_large', `${why}: start an export with POST /api/analytics/exports and download its file when it is done`, {
    use: 'POST /api/analytics/exports',
    maxDays: STREAM_MAX_DAYS,
    maxRows: STREAM_MAX_ROWS,
  });

function fileNameOf(f: { from: string; to: string; format: ExportFormat }): string {
  const day = (v: string) => v.slice(0, 10);
  return `events-${day(f.from)}-${day(f.to)}.${f.format}`;
}

/** Rows (arrays) in, framed text out: CSV through csv-stringify, NDJSON as lines, a batch of rows per chunk. */
function framer(format: ExportFormat): Transform {
  let batch: unknown[][] = [];
  return new Transform({
    writableObjectMode: true,
    writableHighWaterMark: FRAME_ROWS,
    transform(row: unknown[], _enc, done) {
      batch.push(row);
      if (batch.length < FRAME_ROWS) return done();
      const text = formatExportRows(format, batch);
      batch = [];
      done(null, text);
    },
    flush(done) {
      done(null, batch.length ? formatExportRows(format, batch) : undefined);
    },
  });
}

/**
 * A streamed export: checks the range (at most 31 days, at most 1,000,000
 * events — counted first, and no further than that), then opens a cursor on
 * the request's own tenant transaction. `writeTo` streams the file and
 * resolves when the last byte is handed on; the transaction stays open
 * until then.
 */
export async function openExport(a: TenantAccess, customerId: string, f: ExportFilters) {
  if (rangeDays(f.from, f.to) > STREAM_MAX_DAYS) throw tooLarge(`a streamed export covers at most ${STREAM_MAX_DAYS} days`);
  await checkCampaign(a.manager, customerId, f.campaignId);
  const filter = filterOf(customerId, f);
  if ((await countEventsUpTo(a.manager, filter, STREAM_MAX_ROWS + 1)) > STREAM_MAX_ROWS) {
    throw tooLarge(`a streamed export holds at most ${STREAM_MAX_ROWS.toLocaleString('en')} events`);
  }
  const rows = await streamEventExport(a.manager, filter, f.format, STREAM_TIMEOUT_MS);
  return {
    fileName: fileNameOf(f),
    contentType: CONTENT_TYPES[f.format],
    async writeTo(out: Writable): Promise<void> {
      const header = exportHeader(f.format);
      if (header) out.write(header);
      await pipeline(rows, framer(f.format), out);
    },
  };
}

function linkOf(deps: ExportDeps, tenantId: string, row: ExportRow) {
  if (row.status !== 'completed' || !row.completed_at) return null;
  const expires = Math.floor(row.completed_at.getTime() / 1000) + (deps.exportLinkTtlSeconds ?? EXPORT_LINK_TTL_SECONDS);
  if (expires * 1000 <= Date.now()) return null;
  const sig = exportLinkSignature(row.link_key, { tenantId, exportId: row.id, expires });
  return { url: `/api/analytics/exports/${row.id}/download?tenant=${tenantId}&expires=${expires}&sig=${sig}`, expiresAt: new Date(expires * 1000) };
}

function exportOut(deps: ExportDeps, tenantId: string, row: ExportRow) {
  const link = linkOf(deps, tenantId, row);
  const written = Number(row.rows_written);
  const total = row.rows_total === null ? null : Number(row.rows_total);
  const status = row.status === 'completed' && !link ? 'expired' : row.status;
  return {
    id: row.id,
    customerId: row.customer_id,
    status,
    format: row.format,
    filters: {
      from: row.filters.from,
      to: row.filters.to,
      tz: row.filters.timeZone,
      types: row.filters.types ?? null,
      surface: row.filters.surface ?? null,
      campaignId: row.filters.campaignId ?? null,
    },
    rowsTotal: total,
    rowsWritten: written,
    bytesWritten: Number(row.bytes_written),
    progress: row.status === 'completed' ? 1 : total ? Math.min(1, written / total) : total === 0 ? 1 : null,
    error: row.error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    download: link,
  };
}

/** Records an export and starts its workflow once the row is committed; the answer is its status (follow GET /api/analytics/exports/{id}). */
export async function startExport(a: TenantAccess, deps: ExportDeps, customerId: string, f: ExportFilters) {
  await checkCampaign(a.manager, customerId, f.campaignId);
  const { customerId: _, ...filters } = filterOf(customerId, f);
  // The export reads the stream as it is now: events stored later are not in it.
  const maxSeq = (await lastEventSeq(a.manager)) ?? '0';
  const row = await insertExport(a.manager, { id: newId('exp'), customerId, format: f.format, filters: { ...filters, maxSeq }, linkKey: randomBytes(32) });
  const tenantId = a.tenantId;
  a.afterCommit(async () => {
    await startTenantWorkflow(deps.client, EXPORT_EVENTS, {
      tenantId,
      ...exportEventsStartOptions({ tenantId, exportId: row.id, ...(deps.exportChunkRows ? { chunkRows: deps.exportChunkRows } : {}) }, deps.taskQueue),
    });
  });
  return exportOut(deps, tenantId, row);
}

export async function getExport(a: TenantAccess, deps: ExportDeps, customerId: string, id: string) {
  const row = await findExport(a.manager, id, customerId);
  if (!row) throw notFound('export');
  return exportOut(deps, a.tenantId, row);
}

/**
 * The file a signed link names. The link is the credential (as an object
 * store's presigned URL would be): a wrong tenant, export or signature is
 * the export's 404; a link past its expiry, or an export past its life, is
 * 410 export_expired, and the expired file is removed.
 */
export async function exportDownload(ds: DataSource, deps: ExportDeps, id: string, link: { tenant: string; expires: number; sig: string }) {
  const row = await withTenant(ds, link.tenant, (m) => findExport(m, id));
  if (!row || !exportLinkValid(row.link_key, { tenantId: link.tenant, exportId: id, expires: link.expires }, link.sig)) throw notFound('export');
  if (row.status !== 'completed' || !row.file_name) throw notFound('export');
  const file = exportFilePath(deps.exportDir ?? defaultExportDir(), link.tenant, row.file_name);
  if (link.expires * 1000 <= Date.now() || !linkOf(deps, link.tenant, row)) {
    await fs.promises.rm(file, { force: true });
    throw new ApiError(410, 'export_expired', 'this download link has expired: start the export again');
  }
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat) throw new ApiError(410, 'export_expired', 'this export’s file is no longer kept: start the export again');
  return {
    fileName: fileNameOf({ from: row.filters.from, to: row.filters.to, format: row.format }),
    contentType: CONTENT_TYPES[row.format],
    size: stat.size,
    open: () => fs.createReadStream(file),
  };
}

function eventOut(r: EventRow) {
  return {
    seq: r.seq,
    id: r.id,
    type: r.type,
    occurredAt: r.occurred_at,
    receivedAt: r.received_at,
    customerId: r.customer_id,
    campaignId: r.campaign_id,
    step: r.step,
    enrollmentId: r.enrollment_id,
    messageId: r.message_id,
    leadId: r.lead_id,
    conversationId: r.conversation_id,
    automationId: r.automation_id,
    surface: r.surface,
    properties: r.properties,
  };
}

/** A page of the customer's events after `after`, in `seq` order; `next` is where the following pull starts (the same `after` when nothing new). */
export async function pullEvents(a: TenantAccess, customerId: string, q: { after: string; limit: number; campaignId?: string }) {
  await checkCampaign(a.manager, customerId, q.campaignId);
  const rows = await listEventsAfter(a.manager, customerId, { ...q, marginSeconds: PULL_MARGIN_SECONDS });
  return { data: rows.map(eventOut), next: rows.length ? rows[rows.length - 1]!.seq : q.after, more: rows.length === q.limit };
}
