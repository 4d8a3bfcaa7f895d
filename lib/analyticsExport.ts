// The analytics export's pure rules (docs/analytics.md, "Export"): the
// columns in their documented order, how a requested range reads in a time
// zone, the size limits of a streamed export, and the HMAC that signs an
// export's download link.
import { isValidTimezone } from './schedule';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';

/** The columns of an export, in their stable order (CSV header and NDJSON keys alike). */
export const EXPORT_COLUMNS = [
  'seq',
  'id',
  'type',
  'occurred_at',
  'received_at',
  'customer_id',
  'campaign_id',
  'step',
  'enrollment_id',
  'message_id',
  'lead_id',
  'conversation_id',
  'automation_id',
  'surface',
  'properties',
] as const;

export type ExportFormat = 'csv' | 'ndjson';

/** The CSV text of rows (cells that a spreadsheet would run as a formula get a leading quote), or NDJSON lines. */
export function formatExportRows(format: ExportFormat, rows: unknown[][]): string {
  if (format === 'ndjson') return rows.map((r) => `${r[0] as string}\n`).join('');
  return stringify(rows, { escape_formulas: true });
}

/** The file's first line: the CSV header (NDJSON has none). */
export const exportHeader = (format: ExportFormat) => (format === 'csv' ? stringify([[...EXPORT_COLUMNS]]) : '');

/** A streamed export (GET) covers at most this many days and rows; larger ones run as a workflow (POST /api/analytics/exports). */
export const STREAM_MAX_DAYS = 31;
export const STREAM_MAX_ROWS = 1_000_000;

/** How long a finished export's file and its download links last. */
export const EXPORT_LINK_TTL_SECONDS = 24 * 60 * 60;

/** A date (`2024-03-10`) or date-time with an optional offset; without one it is a wall-clock time of the request's zone. */
export const LOCAL_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

export function hasOffset(value: string): boolean {
  return value.includes('T') && HAS_OFFSET.test(value);
}

/** Whether the zone is one the runtime knows by its IANA name. */
export function isTimeZone(value: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(value) && isValidTimezone(value);
}

/**
 * The range's length in days, reading wall-clock times as if the zone had no
 * offset: a local day across a DST change still counts as one day.
 */
export function rangeDays(from: string, to: string): number {
  const ms = (v: string) => Date.parse(hasOffset(v) ? v : `${v.includes('T') ? v : `${v}T00:00`}Z`);
  return (ms(to) - ms(from)) / 86_400_000;
}

export function isValidLocalTime(value: string): boolean {
  if (!LOCAL_TIME.test(value)) return false;
  const [date] = value.split('T');
  const d = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(date!);
}

/** What a download link signs: the tenant, the export and the link's expiry (unix seconds). */
export function exportLinkSignature(key: Buffer, link: { tenantId: string; exportId: string; expires: number }): string {
  return createHmac('sha256', key).update(`${link.tenantId}\n${link.exportId}\n${link.expires}`).digest('hex');
}

export function exportLinkValid(key: Buffer, link: { tenantId: string; exportId: string; expires: number }, signature: string): boolean {
  const expected = Buffer.from(exportLinkSignature(key, link), 'hex');
  const given = Buffer.from(/^[0-9a-f]{64}$/.test(signature) ? signature : '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
