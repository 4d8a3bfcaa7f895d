// Reading `timestamptz` columns. node-postgres turns each value into a Date
// with postgres-date, which runs three regular expressions per value; a page of
// 50 leads has 100 of them, and their match arrays and strings are a large
// share of what a tenant-scoped read allocates (docs/performance.md, the API's
// allocation profile). The form PostgreSQL sends for a session in UTC —
// `2026-11-23 08:33:19.513412+00` — is read here digit by digit; anything else
// (another offset with minutes or seconds, a year before 100, BC, infinity)
// goes to the parser node-postgres would have used, so the values are the same
// Dates that parser gives. Registered once per process, where the data sources
// are made.
import pg from 'pg';

const TIMESTAMPTZ_OID = 1184;
/** The parser node-postgres reads `timestamptz` with by default (postgres-date). */
export const nodePostgresTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (value: string) => unknown;

const ZERO = 48;
const HYPHEN = 45;
const PLUS = 43;
const SPACE = 32;
const COLON = 58;
const DOT = 46;

/** The number written by the `to - from` digits at `from`, or -1 if any is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `YYYY-MM-DD HH:MM:SS[.f…]±HH[:MM]` to milliseconds since the epoch, or undefined for any other form. */
export function fastMillis(s: string): number | undefined {
  const n = s.length;
  if (
    n < 22 ||
    s.charCodeAt(4) !== HYPHEN ||
    s.charCodeAt(7) !== HYPHEN ||
    s.charCodeAt(10) !== SPACE ||
    s.charCodeAt(13) !== COLON ||
    s.charCodeAt(16) !== COLON
  )
    return undefined;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 7);
  const day = digitsAt(s, 8, 10);
  const hour = digitsAt(s, 11, 13);
  const minute = digitsAt(s, 14, 16);
  const second = digitsAt(s, 17, 19);
  // Years 0–99 would read as 1900–1999 in Date.UTC: left to the original.
  if (year < 100 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  let i = 19;
  let ms = 0;
  if (s.charCodeAt(i) === DOT) {
    // Milliseconds are the first three digits of the fraction; the rest are dropped, as Date.UTC drops them.
    let digits = 0;
    for (i += 1; i < n; i++) {
      const d = s.charCodeAt(i) - ZERO;
      if (d < 0 || d > 9) break;
      if (digits < 3) ms = ms * 10 + d;
      digits += 1;
    }
    if (digits === 0) return undefined;
    for (let k = digits; k < 3; k++) ms *= 10;
  }
  const sign = s.charCodeAt(i);
  if (sign !== PLUS && sign !== HYPHEN) return undefined;
  const offsetHours = digitsAt(s, i + 1, i + 3);
  if (offsetHours < 0) return undefined;
  let offsetMinutes = 0;
  if (n === i + 6 && s.charCodeAt(i + 3) === COLON) {
    offsetMinutes = digitsAt(s, i + 4, i + 6);
    if (offsetMinutes < 0) return undefined;
  } else if (n !== i + 3) return undefined;
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000 * (sign === PLUS ? 1 : -1);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}

/** A `timestamptz` value as node-postgres would give it: a Date (or what postgres-date gives for the forms it is left). */
export function parseTimestamptz(value: string): unknown {
  const ms = fastMillis(value);
  return ms === undefined ? nodePostgresTimestamptz(value) : new Date(ms);
}

/** Makes every pg client of this process read `timestamptz` with `parseTimestamptz` (again is harmless). */
export function registerTimestampParser(): void {
  pg.types.setTypeParser(TIMESTAMPTZ_OID, parseTimestamptz);
}
