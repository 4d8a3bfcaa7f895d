// The analytics export's activities (workflows/exportEvents.ts): begin the
// file, append chunks of events after the last one written, finish it.
// Each chunk reads the stream in short tenant transactions of a few
// thousand events (keyset on occurred_at, seq, up to the `seq` the export
// was asked at), appends them to `<id>.<format>.part` and heartbeats where
// it got; a retry cuts the file back to the last progress it knows and goes
// on from there, so an event is written once. Only ids and counts leave
// these functions.
import fs from 'node:fs/promises';
import path from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource, type EntityManager } from 'typeorm';
import { countEventsUpTo, type EventExportFilter, readEventExportChunk } from '../db/analyticsEvents';
import { completeExport, type ExportRow, failExport, findExport, recordExportProgress } from '../db/analyticsExports';
import { withTenant } from '../db/tenantContext';
import { exportHeader, formatExportRows } from '../lib/analyticsExport';
import { defaultExportDir, exportFilePath } from '../lib/exportFiles';
import { EXPORT_GONE, type ExportChunkInput, type ExportChunkResult, type ExportCursor } from '../workflows/exportEvents.contract';

export interface ExportEventsDeps {
  dataSource: DataSource;
  /** Where finished exports are kept (default: `exports` under TENANTFLOW_DATA_DIR). */
  exportDir?: string;
}

/** Events read per transaction; a heartbeat follows each batch. */
const BATCH_ROWS = 5_000;
/** Counting the total for progress stops here. */
const COUNT_CAP = 100_000_000;

export function createExportEventsActivities(deps: ExportEventsDeps) {
  const ds = deps.dataSource;
  const dir = () => deps.exportDir ?? defaultExportDir();

  async function load(m: EntityManager, exportId: string): Promise<ExportRow> {
    const row = await findExport(m, exportId);
    if (!row) throw ApplicationFailure.nonRetryable('the export is gone', EXPORT_GONE);
    return row;
  }
  const filterOf = (row: ExportRow): EventExportFilter => ({ ...row.filters, customerId: row.customer_id });
  const partOf = (tenantId: string, row: ExportRow) => exportFilePath(dir(), tenantId, `${row.id}.${row.format}.part`);

  async function beginExport(input: { tenantId: string; exportId: string }): Promise<{ rowsTotal: number; bytesWritten: number }> {
    return withTenant(ds, input.tenantId, async (m) => {
      const row = await load(m, input.exportId);
      const rowsTotal = await countEventsUpTo(m, filterOf(row), COUNT_CAP);
      const file = partOf(input.tenantId, row);
      await fs.mkdir(path.dirname(file), { recursive: true });
      const header = exportHeader(row.format);
      await fs.writeFile(file, header);
      const bytesWritten = Buffer.byteLength(header);
      await recordExportProgress(m, row.id, { rowsWritten: 0, bytesWritten, rowsTotal });
      return { rowsTotal, bytesWritten };
    });
  }

  async function writeExportChunk(input: ExportChunkInput): Promise<ExportChunkResult> {
    const { tenantId, exportId } = input;
    const ctx = Context.current();
    const row = await withTenant(ds, tenantId, (m) => load(m, exportId));
    const file = partOf(tenantId, row);
    // A retry goes on from its last heartbeat when the file still holds that much, else from where the workflow knows it got.
    const beat = ctx.info.heartbeatDetails as (ExportCursor & { chunkRows: number }) | undefined;
    const size = (await fs.stat(file)).size;
    let cursor: ExportCursor = beat && beat.bytesWritten <= size ? beat : input.cursor;
    const started = beat && beat.bytesWritten <= size ? beat.chunkRows : 0;
    const handle = await fs.open(file, 'r+');
    try {
      await handle.truncate(cursor.bytesWritten);
      let written = started;
      for (;;) {
        const want = Math.min(BATCH_ROWS, input.chunkRows - written);
        if (want <= 0) break;
        const rows = await withTenant(ds, tenantId, (m) => readEventExportChunk(m, filterOf(row), row.format, cursor.after ?? undefined, want));
        if (rows.length > 0) {
          const last = rows[rows.length - 1]!;
          const text = formatExportRows(
            row.format,
            rows.map((r) => r.slice(0, -2)),
          );
          const bytes = Buffer.from(text);
          await handle.write(bytes, 0, bytes.length, cursor.bytesWritten);
          written += rows.length;
          cursor = {
            rowsWritten: cursor.rowsWritten + rows.length,
            bytesWritten: cursor.bytesWritten + bytes.length,
            after: { at: last[last.length - 2] as string, seq: last[last.length - 1] as string },
          };
          ctx.heartbeat({ ...cursor, chunkRows: written });
        }
        if (rows.length < want) {
          await handle.sync();
          await withTenant(ds, tenantId, (m) => recordExportProgress(m, exportId, cursor));
          return { ...cursor, done: true };
        }
      }
      await handle.sync();
      await withTenant(ds, tenantId, (m) => recordExportProgress(m, exportId, cursor));
      return { ...cursor, done: false };
    } finally {
      await handle.close();
    }
  }

  async function finishExport(input: { tenantId: string; exportId: string; rowsWritten: number; bytesWritten: number }): Promise<void> {
    await withTenant(ds, input.tenantId, async (m) => {
      const row = await load(m, input.exportId);
      const fileName = `${row.id}.${row.format}`;
      const part = partOf(input.tenantId, row);
      // A retry after the rename finds the file already in place.
      await fs.rename(part, exportFilePath(dir(), input.tenantId, fileName)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      await completeExport(m, row.id, { rowsWritten: input.rowsWritten, bytesWritten: input.bytesWritten, fileName });
    });
  }

  async function markExportFailed(input: { tenantId: string; exportId: string; error: string }): Promise<void> {
    await withTenant(ds, input.tenantId, (m) => failExport(m, input.exportId, input.error));
  }

  return { beginExport, writeExportChunk, finishExport, markExportFailed };
}
