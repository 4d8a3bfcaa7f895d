// Where finished exports are kept (docs/analytics.md, "Export"): files under
// the data dir, one folder per tenant. This is the seam object storage takes
// in production: the workflow writes through `exportFilePath` and the API
// serves what it names, so a bucket (with its own presigned links) replaces
// these two functions and nothing else.
import path from 'node:path';
import { config } from './config';

/** The exports folder under TENANTFLOW_DATA_DIR. */
export function defaultExportDir(): string {
  return path.join(config().TENANTFLOW_DATA_DIR, 'exports');
}

/** The path of an export's file; the names are the database's own (a tenant UUID, an `exp_` id), never a caller's. */
export function exportFilePath(dir: string, tenantId: string, fileName: string): string {
  if (!/^[0-9a-f-]{36}$/.test(tenantId) || !/^[A-Za-z0-9._-]{1,200}$/.test(fileName) || fileName.startsWith('.')) throw new Error('unsafe export file name');
  return path.join(dir, tenantId, fileName);
}
