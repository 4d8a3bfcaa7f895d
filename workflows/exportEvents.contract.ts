// The contract of an analytics export that runs as a workflow,
// `tenant/{t}/export/{id}` (docs/analytics.md, "Export"): the API records
// the export's row and starts it; activities write the file in chunks, each
// committing its progress. Input and results carry ids and counts only.
import { defineQuery } from '@temporalio/workflow';
import { exportWorkflowId } from './ids';
import { TenantIdSearchAttribute } from './searchAttributes';

export const EXPORT_EVENTS = 'exportEvents';

/** Failure type of an export that retrying will not fix (its row is gone). */
export const EXPORT_GONE = 'export_gone';

export interface ExportEventsInput {
  tenantId: string;
  exportId: string;
  /** Events per activity call (default 50,000); each call heartbeats every few thousand. */
  chunkRows?: number;
}

/** Where the writer is: the rows and bytes in the file so far, and the last event written. */
export interface ExportCursor {
  rowsWritten: number;
  bytesWritten: number;
  after: { at: string; seq: string } | null;
}

export interface ExportProgress extends ExportCursor {
  status: 'running' | 'completed' | 'failed';
  rowsTotal: number | null;
}

export interface ExportChunkInput {
  tenantId: string;
  exportId: string;
  cursor: ExportCursor;
  chunkRows: number;
}

export type ExportChunkResult = ExportCursor & { done: boolean };

export const progressQuery = defineQuery<ExportProgress>('progress');

export function exportEventsStartOptions(input: ExportEventsInput, taskQueue: string) {
  return {
    workflowId: exportWorkflowId(input),
    taskQueue,
    args: [input] as [ExportEventsInput],
    typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: input.tenantId }],
  };
}
