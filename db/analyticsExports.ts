// Exports of the analytics stream that run as a workflow (docs/analytics.md,
// "Export"): the request's filters, how far the writer got, and the key its
// download links are signed with. The file itself lives under the data dir
// (lib/exportFiles.ts), not here.
import { type EntityManager } from 'typeorm';
import { type EventExportFilter } from './analyticsEvents';

export interface ExportRow {
  id: string;
  customer_id: string;
  format: 'csv' | 'ndjson';
  filters: Omit<EventExportFilter, 'customerId'>;
  status: 'running' | 'completed' | 'failed';
  rows_total: string | null;
  rows_written: string;
  bytes_written: string;
  file_name: string | null;
  link_key: Buffer;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  completed_at: Date | null;
}

const COLUMNS = `id, customer_id, format, filters, status, rows_total::text, rows_written::text, bytes_written::text, file_name, link_key, error,
                 created_at, updated_at, completed_at`;

export async function insertExport(
  m: EntityManager,
  e: { id: string; customerId: string; format: 'csv' | 'ndjson'; filters: Omit<EventExportFilter, 'customerId'>; linkKey: Buffer },
): Promise<ExportRow> {
  const [row] = (await m.query(
    `INSERT INTO analytics_exports (tenant_id, id, customer_id, format, filters, link_key)
     VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [e.id, e.customerId, e.format, JSON.stringify(e.filters), e.linkKey],
  )) as ExportRow[];
  return row!;
}

/** One export; with `customerId`, only that customer's. */
export async function findExport(m: EntityManager, id: string, customerId?: string): Promise<ExportRow | undefined> {
  const [row] = (await m.query(`SELECT ${COLUMNS} FROM analytics_exports WHERE id = $1 AND ($2::text IS NULL OR customer_id = $2)`, [
    id,
    customerId ?? null,
  ])) as ExportRow[];
  return row;
}

/** Records the writer's progress (a retried chunk writes the same figures again). */
export async function recordExportProgress(m: EntityManager, id: string, p: { rowsWritten: number; bytesWritten: number; rowsTotal?: number }): Promise<void> {
  await m.query(
    `UPDATE analytics_exports SET rows_written = $2, bytes_written = $3, rows_total = COALESCE($4, rows_total), updated_at = now()
      WHERE id = $1 AND status = 'running'`,
    [id, p.rowsWritten, p.bytesWritten, p.rowsTotal ?? null],
  );
}

export async function completeExport(m: EntityManager, id: string, p: { rowsWritten: number; bytesWritten: number; fileName: string }): Promise<void> {
  await m.query(
    `UPDATE analytics_exports SET status = 'completed', rows_written = $2, bytes_written = $3, file_name = $4, completed_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'running'`,
    [id, p.rowsWritten, p.bytesWritten, p.fileName],
  );
}

export async function failExport(m: EntityManager, id: string, error: string): Promise<void> {
  await m.query("UPDATE analytics_exports SET status = 'failed', error = left($2, 500), updated_at = now() WHERE id = $1 AND status = 'running'", [id, error]);
}
