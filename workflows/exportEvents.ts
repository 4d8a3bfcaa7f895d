// exportEvents: writes an analytics export to its file (docs/analytics.md,
// "Export"). The file is begun (header, the total to expect), then written
// chunk by chunk — each activity call appends a bounded number of events
// after the last one written, heartbeating as it goes, and records the
// progress on the export's row — and finished (renamed into place, marked
// completed). A chunk that fails is retried from the progress the workflow
// holds: the activity cuts the file back to those bytes first, so nothing is
// written twice. An export that cannot finish is marked failed.
import { ActivityFailure, ApplicationFailure, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { EXPORT_GONE, type ExportEventsInput, type ExportProgress, progressQuery } from './exportEvents.contract';

export * from './exportEvents.contract';

const { beginExport, writeExportChunk, finishExport } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: [EXPORT_GONE] },
});

const { markExportFailed } = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });

const DEFAULT_CHUNK_ROWS = 50_000;

export async function exportEvents(input: ExportEventsInput): Promise<ExportProgress> {
  const { tenantId, exportId } = input;
  let progress: ExportProgress = { status: 'running', rowsTotal: null, rowsWritten: 0, bytesWritten: 0, after: null };
  setHandler(progressQuery, () => progress);
  try {
    const begun = await beginExport({ tenantId, exportId });
    progress = { ...progress, rowsTotal: begun.rowsTotal, bytesWritten: begun.bytesWritten };
    for (;;) {
      const { done, ...cursor } = await writeExportChunk({
        tenantId,
        exportId,
        cursor: { rowsWritten: progress.rowsWritten, bytesWritten: progress.bytesWritten, after: progress.after },
        chunkRows: input.chunkRows ?? DEFAULT_CHUNK_ROWS,
      });
      progress = { ...progress, ...cursor };
      if (done) break;
    }
    await finishExport({ tenantId, exportId, rowsWritten: progress.rowsWritten, bytesWritten: progress.bytesWritten });
    progress = { ...progress, status: 'completed' };
    return progress;
  } catch (err) {
    progress = { ...progress, status: 'failed' };
    const gone = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.type === EXPORT_GONE;
    if (!gone) await markExportFailed({ tenantId, exportId, error: 'the export could not be written' });
    log.warn('export failed', { exportId, error: (err as Error).message });
    throw err;
  }
}
